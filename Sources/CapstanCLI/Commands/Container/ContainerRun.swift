import ArgumentParser
import CapstanContainerizer
import CapstanCore
import CapstanImage
import Foundation
import Glibc
import Logging
import UnixSignals

/// `capstan container …`: the containerizer alone, like `podman`.
struct ContainerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "container", abstract: "Run containers with Capstan's Linux containerizer, without an agent.",
        subcommands: [ContainerRun.self])
}

/// `capstan container run [--rm] [--rootfs DIR | IMAGE] [--cpus N] [--mem MB] [--hostname H] [-- CMD...]`
struct ContainerRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one command in a new container and exit with its status.",
        discussion: """
            The root filesystem is IMAGE's layers from the image store (<work-dir>/images; pulled or imported when \
            missing, see `capstan image`), or DIR; both are mounted read-only under a private overlay (or copied when \
            overlayfs is unavailable), so the container's writes never reach them. With IMAGE, its entrypoint, cmd, \
            env, working dir and user apply; CMD replaces the image's cmd. The container gets its own mount, PID, UTS, IPC \
            and (unless --net host) network namespaces, a sandbox directory bind-mounted at /mnt/mesos/sandbox, and \
            cgroups cpu/memory/pids limits. Its stdout and stderr are written to the sandbox and streamed here. \
            Needs root. Exit status: the command's, 128+N when a signal N ended it, 125 when it could not start.
            """)

    @Option(help: "A directory to use as the container's root filesystem (read-only lower layer of an overlay).")
    var rootfs: String?

    @Argument(help: "An image reference (docker://…, oci:PATH, oci-archive:PATH, docker-archive:PATH, or a stored name).")
    var image: String?

    @Flag(help: "Remove the container's sandbox when it ends.")
    var rm = false

    @OptionGroup(title: "Registries (an image missing from the store is pulled, as `capstan image pull` does)")
    var registry: RegistryFlags

    @Option(help: "Registry credentials USER:PASSWORD (otherwise read from --registry-config or the default auth files).")
    var creds: String?

    @Option(help: "CPU share and CFS quota, in cores (e.g. 0.5).")
    var cpus: Double?

    @Option(help: "Memory limit in MB (MiB).")
    var mem: UInt64?

    @Option(help: "The most processes the container may have.")
    var pidsLimit: Int?

    @Option(help: "Hostname inside the container (default: the container ID).")
    var hostname: String?

    @Option(help: "host, or isolated (a network namespace with only loopback).")
    var net: String = "isolated"

    @Option(name: .shortAndLong, help: "NAME=VALUE to set in the container (repeatable).")
    var env: [String] = []

    @Option(name: [.customShort("v"), .long], help: "A bind mount HOST:CONTAINER[:ro] (repeatable).")
    var volume: [String] = []

    @Option(name: .shortAndLong, help: "User (name, uid, name:group or uid:gid) resolved in the container's /etc/passwd.")
    var user: String?

    @Option(name: .shortAndLong, help: "Working directory inside the container (default: /mnt/mesos/sandbox).")
    var workdir: String?

    @Option(help: "Capstan's work directory: container state under <work-dir>/containers, sandboxes under <work-dir>/sandboxes.")
    var workDir: String = ".capstan"

    @Option(help: "Log level on stderr: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "critical"

    @Argument(parsing: .postTerminator, help: "The command and its arguments (after --).")
    var command: [String] = []

    func validate() throws {
        if (rootfs == nil) == (image == nil) { throw ValidationError("Give exactly one of --rootfs DIR and IMAGE") }
        if rootfs != nil && command.isEmpty {
            throw ValidationError("Give the command to run after --, e.g. -- /bin/sh -c 'echo hi'")
        }
        if net != "host" && net != "isolated" { throw ValidationError("--net must be host or isolated, not '\(net)'") }
        if let cpus, cpus <= 0 { throw ValidationError("--cpus must be positive") }
    }

    func run() async throws {
        let argv = command
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
            throw ValidationError("--log-level '\(logLevel)' is not a log level")
        }
        var logger = Logger(label: "capstan.container") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = level

        let work = URL(fileURLWithPath: workDir).standardizedFileURL.path
        let id = ContainerID("ctr-\(UUID().uuidString.prefix(12).lowercased())")
        let sandbox = "\(work)/sandboxes/\(id)"
        try FileManager.default.createDirectory(atPath: sandbox, withIntermediateDirectories: true)
        defer { if rm { try? FileManager.default.removeItem(atPath: sandbox) } }

        var config = try makeConfig(id: id, argv: argv, sandbox: sandbox)
        let launcher = LinuxLauncher(workDirectory: work, logger: logger)
        var provisioner: ImageStoreProvisioner?
        if let image {
            do {
                var options = try registry.options()
                if let creds, case .registry(let host)? = try? ImageReference(parsing: image) {
                    options.credentials[host.host] = try RegistryCredentials(parsing: creds)
                }
                let store = try ImageStore(root: work + "/images", options: options, limits: try registry.layerLimits.limits(), logger: logger)
                provisioner = ImageStoreProvisioner(store: store, leaseDirectory: { launcher.stateDirectory(of: $0) })
            } catch {
                FileHandle.standardError.write(Data("capstan: \((error as? CapstanError)?.message ?? "\(error)")\n".utf8))
                throw ExitCode(125)
            }
            // The containerizer pulls or imports the image and mounts its layers; Docker's rule: CMD after the image
            // replaces its cmd and keeps its entrypoint.
            config.image = ContainerImage(reference: image)
            config.command.value = nil
        }
        // The operator's own command: any host path (the agent allows only its --allowed-host-paths).
        let volumes = VolumeIsolator(policy: try HostPathPolicy(allowedRoots: ["/"]))
        let containerizer = Containerizer(
            launcher: launcher, provisioner: provisioner, isolators: IsolatorSet.available(logger: logger).isolators + [volumes], logger: logger)

        let streamer = OutputStreamer(sandbox: sandbox)
        do { try await containerizer.launch(config) } catch {
            streamer.drain()
            FileHandle.standardError.write(Data("capstan: \((error as? CapstanError)?.message ?? "\(error)")\n".utf8))
            throw ExitCode(125)
        }
        let signals = Task {
            for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) {
                _ = await containerizer.destroy(id, gracePeriod: .seconds(10))
                return
            }
        }
        let streaming = Task {
            while !Task.isCancelled {
                streamer.drain()
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        let termination = try await containerizer.wait(id)  // the containerizer has released the image's layers
        streaming.cancel()
        _ = await streaming.value
        signals.cancel()
        streamer.drain()
        let status: Int32 = termination.exitStatus ?? termination.signal.map { 128 + $0 } ?? 125
        var line = "capstan: container \(id): \(termination.message)"
        if let limitation = termination.limitation { line += " (limitation: \(limitation.resource.rawValue))" }
        FileHandle.standardError.write(Data((line + "\n").utf8))
        if status != 0 { throw ExitCode(status) }
    }

    private func makeConfig(id: ContainerID, argv: [String], sandbox: String) throws -> ContainerConfig {
        var environment = image == nil ? ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] : [:]
        for entry in env {
            guard let eq = entry.firstIndex(of: "="), eq != entry.startIndex else {
                throw ValidationError("--env '\(entry)' is not NAME=VALUE")
            }
            environment[String(entry[..<eq])] = String(entry[entry.index(after: eq)...])
        }
        // The agent's volume code: `volume/path` resolves the host path and mounts it read-only for real (EROFS).
        let volumes = try volume.map { spec -> ContainerVolume in
            let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 || (parts.count == 3 && parts[2] == "ro"), !parts[0].isEmpty, parts[1].hasPrefix("/") else {
                throw ValidationError("--volume '\(spec)' is not HOST:CONTAINER[:ro] with an absolute CONTAINER path")
            }
            let host = parts[0].hasPrefix("/") ? parts[0] : FileManager.default.currentDirectoryPath + "/" + parts[0]
            return ContainerVolume(source: .hostPath(host), containerPath: parts[1], readOnly: parts.count == 3)
        }
        var rootfsSpec: RootfsSpec?
        if let rootfs {
            let root = URL(fileURLWithPath: rootfs).standardizedFileURL.path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--rootfs '\(rootfs)' is not a directory")
            }
            rootfsSpec = .layers([root])
        }
        return ContainerConfig(
            containerID: id,
            command: CommandSpec(shell: false, value: argv.first, arguments: argv, environment: environment, user: user),
            sandboxDirectory: sandbox,
            limits: ResourceLimits(cpus: cpus, memBytes: mem.map { $0 << 20 }, maxProcesses: pidsLimit),
            rootfs: rootfsSpec, hostname: hostname, networkMode: net == "host" ? .host : .isolated, mounts: [],
            workingDirectory: workdir, volumes: volumes)
    }
}

/// Copies what the task appends to the sandbox's stdout and stderr files to this process's stdout and stderr.
final class OutputStreamer: @unchecked Sendable {
    private let files: [(path: String, fd: Int32)]
    private var offsets: [Int] = [0, 0]
    private let lock = NSLock()

    init(sandbox: String) {
        files = [(sandbox + "/stdout", 1), (sandbox + "/stderr", 2)]
    }

    /// Copies whatever is new.
    func drain() {
        lock.lock()
        defer { lock.unlock() }
        for (index, file) in files.enumerated() {
            guard let handle = FileHandle(forReadingAtPath: file.path) else { continue }
            defer { try? handle.close() }
            try? handle.seek(toOffset: UInt64(offsets[index]))
            guard let data = try? handle.readToEnd(), !data.isEmpty else { continue }
            offsets[index] += data.count
            data.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = write(file.fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if n <= 0 { break }
                    offset += n
                }
            }
        }
    }
}
