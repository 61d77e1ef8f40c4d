import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import CapstanInitSpec
import Foundation
import Glibc
import Testing

@Suite("LinuxLauncher", .serialized, LinuxPrerequisites.trait)
struct LinuxLauncherTests {
    /// The launcher keeps a spare capstan-init started ahead: each launch must still write to its own sandbox, and a
    /// spare that died meanwhile must be replaced, not handed a spec.
    @Test func spareInitServesTheNextLaunchAndADeadSpareIsReplaced() async throws {
        try await LinuxFixture.with { fx in
            let containerizer = Containerizer(launcher: fx.launcher(), isolators: [], logger: quietLogger)
            for round in 0..<3 {
                if round == 2 {
                    // Kill the spare the previous launch left: this launcher's capstan-init still waiting for a spec.
                    let spares = Self.spareInits(of: fx.work)
                    #expect(spares.count == 1, "one spare after a launch: \(spares)")
                    for pid in spares { kill(pid, SIGKILL) }
                    // Launch once the kill has taken effect (the spare is a zombie): a spare that is dead must be
                    // replaced. (One still dying when its spec is written cannot be told from a live one.)
                    for pid in spares {
                        let deadline = ContinuousClock.now + .seconds(10)
                        while ContinuousClock.now < deadline,
                            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                            let close = stat.lastIndex(of: ")"), stat[stat.index(after: close)...].split(separator: " ").first != "Z"
                        {
                            try await Task.sleep(for: .milliseconds(5))
                        }
                    }
                }
                var draft = fx.config("echo round-\(round); echo err-\(round) >&2")
                draft.sandboxDirectory = fx.base + "/sandbox-\(round)"
                let config = draft
                try FileManager.default.createDirectory(atPath: config.sandboxDirectory, withIntermediateDirectories: true)
                try await containerizer.launch(config)
                let termination = try await within { try await containerizer.wait(config.containerID) }
                #expect(termination.exitStatus == 0, "\(termination.message)")
                let stdout = try? String(contentsOfFile: config.sandboxDirectory + "/stdout", encoding: .utf8)
                let stderr = try? String(contentsOfFile: config.sandboxDirectory + "/stderr", encoding: .utf8)
                #expect(stdout == "round-\(round)\n")
                #expect(stderr == "err-\(round)\n")
            }
        }
    }

    /// Live spare capstan-init processes of the launcher with work directory `work`: children of this process named
    /// after it in their argv, still holding their spec socket on fd 3 (a monitor closes it once it has read the spec).
    static func spareInits(of work: String) -> [Int32] {
        let me = getpid()
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { name -> Int32? in
            guard let pid = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")"),
                let cmdline = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)
            else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 1, fields[0] != "Z", Int32(fields[1]) == me,
                cmdline.split(separator: "\0").map(String.init) == ["capstan-init", work],
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/3")) != nil
            else { return nil }
            return pid
        }
    }

    @Test func runsInItsOwnNamespacesRootfsAndHostname() async throws {
        try await LinuxFixture.with { fx in
            let containerizer = Containerizer(launcher: fx.launcher(), isolators: [], logger: quietLogger)
            let script = """
                echo "pid=$$"
                echo "init=$(cat /proc/1/cmdline | tr '\\0' ' ')"
                readlink /proc/1/exe >/dev/null 2>&1 && echo "exe=open" || echo "exe=closed"
                head -c 4 /proc/1/exe >/dev/null 2>&1 && echo "exe-read=open" || echo "exe-read=closed"
                echo "hostname=$(hostname)"
                test -e /etc/debian_version && echo "etc=host" || echo "etc=own"
                echo "sandbox=$MESOS_SANDBOX"
                echo "pwd=$(pwd)"
                echo "ifaces=$(tail -n +3 /proc/net/dev | wc -l)"
                touch /sys/kernel/x 2>/dev/null && echo "sys=rw" || echo "sys=ro"
                echo hi > /dev/null && echo "devnull=ok"
                test -c /dev/urandom && test -L /dev/ptmx && test -d /dev/pts && test -d /dev/shm && echo "dev=ok"
                echo "$(grep CapEff /proc/self/status | tr -d '\\t')"
                echo "$(grep NoNewPrivs /proc/self/status | tr -d '\\t')"
                echo "procs=$(ls /proc | grep -c '^[0-9]')"
                touch /mnt/mesos/sandbox/from-inside
                """
            let config = fx.config(script, hostname: "box1")
            try await containerizer.launch(config)
            let termination = try await within { try await containerizer.wait(config.containerID) }
            #expect(termination.exitStatus == 0, "\(termination.message); stderr: \(fx.read("stderr"))")
            let lines = Set(fx.read("stdout").split(separator: "\n").map(String.init))
            #expect(lines.contains("pid=2"), "\(lines)")
            #expect(lines.contains { $0.hasPrefix("init=capstan-init ") }, "\(lines)")
            // PID 1 is a fork of the host's capstan-init: neither the host's paths nor its binary reach the task.
            let initLine = lines.first { $0.hasPrefix("init=") } ?? ""
            #expect(initLine.trimmingCharacters(in: .whitespaces) == "init=capstan-init", "\(initLine)")
            #expect(lines.contains("exe=closed"), "\(lines)")
            #expect(lines.contains("exe-read=closed"), "\(lines)")
            #expect(lines.contains("hostname=box1"))
            #expect(lines.contains("etc=own"))
            #expect(lines.contains("sandbox=/mnt/mesos/sandbox"))
            #expect(lines.contains("pwd=/mnt/mesos/sandbox"))
            #expect(lines.contains("ifaces=1"), "only loopback in the network namespace: \(lines)")
            #expect(lines.contains("sys=ro"))
            #expect(lines.contains("devnull=ok"))
            #expect(lines.contains("dev=ok"))
            #expect(lines.contains("CapEff:00000000a80425fb"), "\(lines)")
            #expect(lines.contains("NoNewPrivs:1"))
            // PID 1, the shell, the command substitution, ls and grep: nothing of the host.
            #expect(lines.contains { $0.hasPrefix("procs=") && (Int($0.dropFirst(6)) ?? 99) <= 5 }, "\(lines)")
            #expect(FileManager.default.fileExists(atPath: fx.sandbox + "/from-inside"))
            #expect(!FileManager.default.fileExists(atPath: fx.launcher().stateDirectory(of: config.containerID)))
        }
    }

    @Test func overlayWritesLandInTheUpperDirNotTheLayer() async throws {
        try await LinuxFixture.with { fx in
            let launcher = fx.launcher(OverlayProvisioner(preference: .overlay))
            let containerizer = Containerizer(launcher: launcher, isolators: [], logger: quietLogger)
            let config = fx.config(
                "echo new > /written; rm /bin/yes; touch $MESOS_SANDBOX/ready; while [ ! -e $MESOS_SANDBOX/go ]; do sleep 0.05; done")
            try await containerizer.launch(config)
            try await fx.waitFor("ready")
            let state = launcher.stateDirectory(of: config.containerID)
            #expect(FileManager.default.fileExists(atPath: state + "/upper/written"))
            #expect(!FileManager.default.fileExists(atPath: fx.layer + "/written"))
            #expect(FileManager.default.fileExists(atPath: fx.layer + "/bin/yes"))
            // The overlay exists only in the container's mount namespace.
            #expect(fx.leakedMounts().isEmpty)
            _ = FileManager.default.createFile(atPath: fx.sandbox + "/go", contents: nil)
            let termination = try await within { try await containerizer.wait(config.containerID) }
            #expect(termination.exitStatus == 0, "\(fx.read("stderr"))")
            #expect(!FileManager.default.fileExists(atPath: state))
        }
    }

    @Test func copyBackendLeavesTheLayerUntouched() async throws {
        try await LinuxFixture.with { fx in
            let containerizer = Containerizer(
                launcher: fx.launcher(OverlayProvisioner(preference: .copy)), isolators: [], logger: quietLogger)
            let config = fx.config("echo new > /written && rm /bin/yes && cat /written")
            try await containerizer.launch(config)
            let termination = try await within { try await containerizer.wait(config.containerID) }
            #expect(termination.exitStatus == 0, "\(fx.read("stderr"))")
            #expect(fx.read("stdout") == "new\n")
            #expect(!FileManager.default.fileExists(atPath: fx.layer + "/written"))
            #expect(FileManager.default.fileExists(atPath: fx.layer + "/bin/yes"))
        }
    }

    @Test func bindMountsAndUserAreApplied() async throws {
        try await LinuxFixture.with { fx in
            let containerizer = Containerizer(launcher: fx.launcher(), isolators: [], logger: quietLogger)
            let shared = fx.base + "/shared"
            try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
            try "data\n".write(toFile: shared + "/file", atomically: true, encoding: .utf8)
            let config = fx.config(
                "cat /data/file; touch /data/x 2>/dev/null && echo rw || echo ro; id -u; id -g; grep CapEff /proc/self/status | tr -d '\\t'",
                mounts: [BindMountSpec(source: shared, target: "/data", readOnly: true)], user: "nobody")
            try await containerizer.launch(config)
            let termination = try await within { try await containerizer.wait(config.containerID) }
            #expect(termination.exitStatus == 0, "\(fx.read("stderr"))")
            #expect(fx.read("stdout") == "data\nro\n65534\n65534\nCapEff:0000000000000000\n")
        }
    }

    @Test func aNonRootTaskUserOwnsItsSandboxAndWritesThere() async throws {
        try await LinuxFixture.with { fx in
            let containerizer = Containerizer(launcher: fx.launcher(), isolators: [], logger: quietLogger)
            var before = stat()
            #expect(stat(fx.sandbox, &before) == 0 && before.st_uid == 0)
            let config = fx.config("id -u; echo written > $MESOS_SANDBOX/mine; echo to-stderr >&2", user: "nobody")
            try await containerizer.launch(config)
            let termination = try await within { try await containerizer.wait(config.containerID) }
            #expect(termination.exitStatus == 0, "\(fx.read("stderr"))")
            #expect(fx.read("stdout") == "65534\n")
            #expect(fx.read("mine") == "written\n")
            #expect(fx.read("stderr") == "to-stderr\n")
            var info = stat()
            #expect(stat(fx.sandbox, &info) == 0 && info.st_uid == 65534 && info.st_gid == 65534)
            #expect(stat(fx.sandbox + "/mine", &info) == 0 && info.st_uid == 65534)
            #expect(stat(fx.sandbox + "/stdout", &info) == 0 && info.st_uid == 65534)
        }
    }

    @Test func setupFailuresNameTheStepAndErrno() async throws {
        try await LinuxFixture.with { fx in
            let containerizer = Containerizer(launcher: fx.launcher(), isolators: [], logger: quietLogger)
            var missing = fx.config("true")
            missing.command = CommandSpec(shell: false, value: "/nope", arguments: ["nope"], environment: ["PATH": "/bin"])
            let error = await #expect(throws: CapstanError.self) { try await containerizer.launch(missing) }
            #expect(error?.message == "Failed to launch: execve '/nope': No such file or directory (errno 2)")
            #expect(error?.code == .notFound)

            let badMount = fx.config("true", mounts: [BindMountSpec(source: fx.base + "/absent", target: "/x")])
            let mountError = await #expect(throws: CapstanError.self) { try await containerizer.launch(badMount) }
            #expect(mountError?.message == "Failed to launch: stat '\(fx.base)/absent': No such file or directory (errno 2)")

            let badUser = fx.config("true", user: "ghost")
            let userError = await #expect(throws: CapstanError.self) { try await containerizer.launch(badUser) }
            #expect(userError?.message == "Failed to launch: resolve user: user 'ghost' is not in the container's /etc/passwd")
            #expect(await containerizer.containers().isEmpty)
            for config in [missing, badMount, badUser] {
                #expect(!FileManager.default.fileExists(atPath: fx.launcher().stateDirectory(of: config.containerID)))
            }
        }
    }

    @Test func destroyForwardsSIGTERMThroughPID1() async throws {
        try await LinuxFixture.with { fx in
            let containerizer = Containerizer(launcher: fx.launcher(), isolators: [], logger: quietLogger)
            let config = fx.config("trap 'echo got-term; exit 7' TERM; touch $MESOS_SANDBOX/ready; while :; do sleep 0.1; done")
            try await containerizer.launch(config)
            try await fx.waitFor("ready")
            let pid = try #require(await containerizer.pid(of: config.containerID))
            let started = ContinuousClock.now
            let termination = try #require(await containerizer.destroy(config.containerID, gracePeriod: .seconds(10)))
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(termination.killed)
            #expect(termination.exitStatus == 7, "\(termination)")
            #expect(fx.read("stdout").contains("got-term"))
            #expect(isGone(pid))
        }
    }

    @Test func imageConfigSuppliesEntrypointCmdEnvWorkingDirAndUser() async throws {
        try await LinuxFixture.with { fx in
            let containerizer = Containerizer(launcher: fx.launcher(), isolators: [], logger: quietLogger)
            var config = fx.config("unused")
            config.command = CommandSpec(shell: false, value: nil, environment: ["TASK": "t"])
            config.imageConfig = ImageProcessConfig(
                entrypoint: ["/bin/sh", "-c"], cmd: ["echo \"$(pwd) $(id -u) $IMG $TASK $MESOS_SANDBOX\""],
                env: ["IMG=i", "TASK=image"], workingDir: "/etc", user: "nobody")
            let id = config.containerID
            try await containerizer.launch(config)
            let termination = try await within { try await containerizer.wait(id) }
            #expect(termination.exitStatus == 0, "\(fx.read("stderr"))")
            #expect(fx.read("stdout") == "/etc 65534 i t /mnt/mesos/sandbox\n")
        }
    }

    @Test func withoutRootfsKeepsTheHostFilesystemInPrivateNamespaces() async throws {
        try await LinuxFixture.with { fx in
            let containerizer = Containerizer(launcher: fx.launcher(), isolators: [], logger: quietLogger)
            var config = fx.config("echo $$ $(hostname) $(pwd); test -e /etc/debian_version && echo host-etc", hostname: "plain")
            config.rootfs = nil
            config.command.environment = ["PATH": "/usr/bin:/bin"]
            let id = config.containerID
            try await containerizer.launch(config)
            let termination = try await within { try await containerizer.wait(id) }
            #expect(termination.exitStatus == 0, "\(fx.read("stderr"))")
            #expect(fx.read("stdout") == "2 plain \(fx.sandbox)\nhost-etc\n")
        }
    }

    @Test func monitorKeepsTheExitStatusForARecoveringLauncher() async throws {
        try await LinuxFixture.with { fx in
            let first = fx.launcher()
            let config = fx.config("touch $MESOS_SANDBOX/ready; while [ ! -e $MESOS_SANDBOX/go ]; do sleep 0.05; done; exit 5")
            let process = try await first.launch(config, hooks: LaunchHooks())
            try await first.resume(process)
            try await fx.waitFor("ready")

            let second = fx.launcher()
            let state = ContainerRecoveryState(
                containerID: config.containerID, pid: process.pid, config: config, startTicks: process.startTicks)
            let recovered = try await second.recover([state])
            let adopted = try #require(recovered[config.containerID])
            _ = FileManager.default.createFile(atPath: fx.sandbox + "/go", contents: nil)
            // The test process is still the monitor's parent: reap it once it has exited, as init would (on a thread
            // of its own: a blocking waitpid must not hold one of the cooperative pool's few threads).
            let reaper = waitpidOnItsOwnThread(process.pid)
            let termination = try await within { await second.wait(adopted) }
            _ = await reaper.value
            #expect(termination.exitStatus == 5, "\(termination)")
            #expect(!FileManager.default.fileExists(atPath: second.stateDirectory(of: config.containerID)))
        }
    }
}

@Suite("UserSpecResolver")
struct UserSpecResolverTests {
    let passwd = "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"
    let group = "root:x:0:\napp:x:1000:\nextra:x:2000:app,other\n"

    @Test func resolvesNamesNumbersAndSupplementaryGroups() throws {
        #expect(
            try UserSpecResolver.resolve("app", passwd: passwd, group: group).get()
                == .init(uid: 1000, gid: 1000, groups: [1000, 2000], name: "app", home: "/home/app"))
        #expect(try UserSpecResolver.resolve("4242", passwd: passwd, group: group).get() == .init(uid: 4242, gid: 0, groups: [0]))
        #expect(
            try UserSpecResolver.resolve("app:extra", passwd: passwd, group: group).get()
                == .init(uid: 1000, gid: 2000, groups: [2000], name: "app", home: "/home/app"))
        #expect(
            try UserSpecResolver.resolve("1000", passwd: passwd, group: group).get()
                == .init(uid: 1000, gid: 1000, groups: [1000, 2000], name: "app", home: "/home/app"))
        #expect(try UserSpecResolver.resolve("1:2", passwd: passwd, group: group).get() == .init(uid: 1, gid: 2, groups: [2]))
        #expect(UserSpecResolver.resolve("ghost", passwd: passwd, group: group) == .failure(.unknownUser("ghost")))
    }

    @Test func loginEnvironmentNamesTheUserUnlessTheTaskDoes() throws {
        let app = try UserSpecResolver.resolve("app", passwd: passwd, group: group).get()
        #expect(app.loginEnvironment(["PATH=/bin"]) == ["PATH=/bin", "HOME=/home/app", "USER=app", "LOGNAME=app"])
        #expect(app.loginEnvironment(["HOME=/data"]) == ["HOME=/data", "USER=app", "LOGNAME=app"])
        let numeric = try UserSpecResolver.resolve("4242", passwd: passwd, group: group).get()
        #expect(numeric.loginEnvironment([]) == ["HOME=/"])
    }

    @Test func exitStatusFileRoundTrips() {
        #expect(ExitStatusFile.decode(ExitStatusFile.encode(exitCode: 3, signal: nil))! == (3, nil))
        #expect(ExitStatusFile.decode(ExitStatusFile.encode(exitCode: nil, signal: 9))! == (nil, 9))
        #expect(ExitStatusFile.decode("garbage") == nil)
    }
}
