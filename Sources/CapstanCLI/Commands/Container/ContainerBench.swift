import ArgumentParser
import CapstanContainerizer
import CapstanCore
import Foundation
import Glibc
import Logging

/// `capstan bench container`: start-to-exit of `/bin/true` in a container, Capstan's Linux launcher against crun.
struct BenchContainer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "container",
        abstract: "Time start-to-exit of /bin/true in a container: Capstan's Linux launcher and cgroup isolators vs crun.",
        discussion: """
            Both run sequentially on the same rootfs (a busybox tree built from /bin/busybox unless --rootfs is given), \
            with pid, mount, ipc, uts and network namespaces, the same mounts (/proc; a /dev tmpfs with the standard \
            nodes, devpts and /dev/shm; /sys read-only; the sandbox bound at /mnt/mesos/sandbox), no_new_privs, and \
            memory, cpu and pids limits. Capstan mounts an overlay over the rootfs with a private upper dir, creates \
            cpu/cpuacct/memory/pids cgroups and moves its monitor and the container's PID 1 into them while PID 1 \
            builds the root (the task is forked only after the move), keeps one capstan-init started ahead (spawned in \
            the background after each start, waiting for its spec, so a launch skips loading the executable), writes the task's output to sandbox files and \
            keeps its exit status in a file; crun uses the directory read-only and joins a cgroup in every v1 hierarchy. crun runs in a private \
            mount namespace with the hybrid cgroup2 mount at /sys/fs/cgroup/unified removed (it refuses hybrid layouts). \
            The ratio is Capstan's mean time over crun's. Needs root.
            """)

    @Option(help: "Runs of each.") var runs: Int = 50
    @Option(help: "A rootfs directory with /bin/true (default: a busybox tree in a scratch dir).") var rootfs: String?
    @Option(help: "The crun executable.") var crun: String = "/usr/bin/crun"

    func run() async throws {
        guard geteuid() == 0 else { throw ValidationError("capstan bench container needs root") }
        let scratch = "/tmp/capstan-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: scratch + "/sandbox", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let root = try rootfs ?? Self.busyboxRootfs(at: scratch + "/rootfs")

        let logger = Logger(label: "capstan.bench.container") { _ in SwiftLogNoOpLogHandler() }
        let isolators = IsolatorSet.available(logger: logger)
        if !isolators.unavailable.isEmpty { print("without isolators: \(isolators.unavailable.joined(separator: "; "))") }
        let containerizer = Containerizer(
            launcher: LinuxLauncher(workDirectory: scratch + "/work", logger: logger), isolators: isolators.isolators, logger: logger)
        var samples: [Double] = []
        for index in 0..<(runs + 1) {
            let config = ContainerConfig(
                containerID: ContainerID("bench-\(index)"),
                command: CommandSpec(shell: false, value: "/bin/true", arguments: ["true"], environment: ["PATH": "/bin"]),
                sandboxDirectory: scratch + "/sandbox", limits: ResourceLimits(cpus: 1, memBytes: 64 << 20),
                rootfs: .layers([root]))
            let start = ContinuousClock.now
            try await containerizer.launch(config)
            let termination = try await containerizer.wait(config.containerID)
            guard termination.exitStatus == 0 else { throw CapstanError(.internal, "capstan run \(index): \(termination.message)") }
            if index > 0 { samples.append((ContinuousClock.now - start).seconds) }  // the first run warms caches
        }
        let capstanMean = samples.reduce(0, +) / Double(samples.count)
        print(String(format: "capstan: %d runs, mean %.2f ms, min %.2f ms", samples.count, capstanMean * 1000, (samples.min() ?? 0) * 1000))

        guard access(crun, X_OK) == 0 else {
            print("crun: not found at \(crun) (apt-get install crun); no ratio")
            return
        }
        let crunMean = try Self.timeCrun(crun, rootfs: root, sandbox: scratch + "/sandbox", bundle: scratch + "/bundle", runs: runs)
        print(String(format: "crun:    %d runs, mean %.2f ms", runs, crunMean * 1000))
        print(String(format: "ratio capstan/crun: %.2f", capstanMean / crunMean))
    }

    /// A busybox rootfs: /bin/busybox and its applets as relative symlinks.
    static func busyboxRootfs(at path: String) throws -> String {
        guard access("/bin/busybox", X_OK) == 0 else {
            throw ValidationError("no /bin/busybox to build a rootfs from (apt-get install busybox-static), and no --rootfs")
        }
        try FileManager.default.createDirectory(atPath: path + "/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: path + "/bin/busybox")
        for applet in ["sh", "true"] { try FileManager.default.createSymbolicLink(atPath: path + "/bin/" + applet, withDestinationPath: "busybox") }
        return path
    }

    /// Mean seconds per `crun run` of /bin/true, timed inside one shell in a private mount namespace.
    static func timeCrun(_ crun: String, rootfs: String, sandbox: String, bundle: String, runs: Int) throws -> Double {
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
        let config: [String: Any] = [
            "ociVersion": "1.0.0",
            "process": [
                "terminal": false, "user": ["uid": 0, "gid": 0], "args": ["/bin/true"], "env": ["PATH=/bin"], "cwd": "/",
                "noNewPrivileges": true,
            ],
            "root": ["path": rootfs, "readonly": true],
            "hostname": "bench",
            "mounts": [
                ["destination": "/proc", "type": "proc", "source": "proc"],
                ["destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]],
                [
                    "destination": "/dev/pts", "type": "devpts", "source": "devpts",
                    "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
                ],
                ["destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]],
                ["destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]],
                ["destination": "/mnt/mesos/sandbox", "type": "bind", "source": sandbox, "options": ["rbind", "rw"]],
            ],
            "linux": [
                "namespaces": [["type": "pid"], ["type": "network"], ["type": "ipc"], ["type": "uts"], ["type": "mount"]],
                "resources": ["memory": ["limit": 64 << 20], "cpu": ["quota": 100_000, "period": 100_000], "pids": ["limit": 1024]],
            ],
        ]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: bundle + "/config.json"))
        let script = """
            umount /sys/fs/cgroup/unified 2>/dev/null
            \(crun) run --bundle \(bundle) capstan-bench-warm >/dev/null || exit 1
            s=$(date +%s%N); i=0
            while [ $i -lt \(runs) ]; do \(crun) run --bundle \(bundle) capstan-bench-$i >/dev/null || exit 1; i=$((i+1)); done
            e=$(date +%s%N); echo $((e-s))
            """
        let output = scratchOutput(bundle + "/out")
        var code: Int32 = -1
        let pid = try spawnShell(["unshare", "-m", "/bin/sh", "-c", script], stdout: output)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        code = (status >> 8) & 0xff
        close(output)
        let text = (try? String(contentsOfFile: bundle + "/out", encoding: .utf8)) ?? ""
        guard code == 0, let nanos = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw CapstanError(.internal, "crun benchmark failed (status \(code)): \(text)")
        }
        return nanos / 1e9 / Double(runs)
    }

    private static func scratchOutput(_ path: String) -> Int32 {
        open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    }

    /// posix_spawnp of a command with `stdout` as its fd 1 (the CLI is not the agent, but it still never forks).
    private static func spawnShell(_ argv: [String], stdout: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        let rc = posix_spawnp(&pid, argv[0], &actions, nil, cArgs, environ)
        guard rc == 0 else { throw CapstanError(.internal, "posix_spawnp \(argv[0]) failed with errno \(rc)") }
        return pid
    }
}

extension Duration {
    fileprivate var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
