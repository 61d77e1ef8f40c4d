public import CapstanCore
import CapstanLinux
import CapstanInitSpec
import Foundation
import Glibc
public import Logging
import Synchronization

/// Launches each container through `capstan-init`: mount, PID, UTS and IPC namespaces (and a network namespace
/// unless ``NetworkMode/host``), a root filesystem from ``RootfsSpec`` with `pivot_root`, `/proc`, a minimal `/dev`,
/// read-only `/sys`, the sandbox at `/mnt/mesos/sandbox`, the hostname, the task's user, capabilities reduced to the
/// default set and `no_new_privs`.
///
/// The agent never forks to set namespaces up: it spawns `capstan-init` (vfork-like, no page-table copy) and hands it
/// an ``InitSpec`` on fd 3. `capstan-init` forks the container's PID 1 at once and reports its pid on fd 4
/// (``heldProcesses(_:)``); PID 1 builds the root filesystem while the isolators move both processes into their
/// cgroups (the kernel's first cgroup move may wait a grace period), and waits at a barrier before it forks the task.
/// ``resume(_:)`` releases it with a byte on fd 4 and reads `ok` or a stage-labelled error from fd 4.
/// `capstan-init` stays as the container's monitor (the ``LaunchedProcess/pid``), and its child is the container's
/// PID 1, which reaps zombies and forwards signals to the task. The monitor writes the task's exit status to
/// `<work>/containers/<id>/exit_status`, so a container recovered after an agent restart still reports it.
///
/// After each successful start the launcher spawns one spare `capstan-init` in the background (``SpareInit``), which
/// waits for a spec: the next launch hands its spec to that already loaded process instead of paying the executable's
/// load on its critical path.
///
/// Per-container state lives in `<workDirectory>/containers/<id>` (spec, rootfs mount point, overlay upper/work dirs
/// or the copy) and is removed once the container has ended. Requires root.
public struct LinuxLauncher: Launcher {
    private let logger: Logger
    private let workDirectory: String
    private let initPath: String
    private let provisioner: OverlayProvisioner
    private let table = ProcessTable(sweepsSession: false)
    private let syncFDs = LockedBox<[Int32: Int32]>([:])
    /// Monitor pid → the failed step its capstan-init reported, for a container collected before `resume`.
    private let initReports = LockedBox<[Int32: InitFailure]>([:])
    private let spare = SpareInit()

    /// Where the container's root is visible inside it, and `MESOS_SANDBOX`.
    public static let sandboxTarget = "/mnt/mesos/sandbox"

    /// Creates a launcher.
    /// - Parameters:
    ///   - workDirectory: the containerizer's work dir; container state goes to `containers/<id>` under it.
    ///   - initPath: the `capstan-init` executable; `nil` takes env `CAPSTAN_INIT`, then the file next to the
    ///     running executable.
    ///   - provisioner: plans root filesystems (overlay, copy fallback).
    ///   - logger: e.g. label `capstan.agent.containerizer`.
    public init(workDirectory: String, initPath: String? = nil, provisioner: OverlayProvisioner = OverlayProvisioner(), logger: Logger) {
        self.workDirectory = workDirectory
        self.initPath = initPath ?? Self.defaultInitPath()
        self.provisioner = provisioner
        self.logger = logger
    }

    /// `CAPSTAN_INIT`, else the first executable of ``initCandidates(executable:environment:)``; when there is none,
    /// the file beside the running executable (and a launch says where it looked).
    public static func defaultInitPath() -> String {
        let candidates = initCandidates(executable: runningExecutable(), environment: ProcessInfo.processInfo.environment)
        return candidates.first { access($0, X_OK) == 0 } ?? candidates[0]
    }

    /// Where `capstan-init` is looked for, in order: `$CAPSTAN_INIT` (alone, when set), the directory of the running
    /// executable, and `../libexec/capstan/` from it (where `scripts/install.sh` puts it).
    public static func initCandidates(executable: String, environment: [String: String]) -> [String] {
        if let path = environment["CAPSTAN_INIT"], !path.isEmpty { return [path] }
        let directory = (executable as NSString).deletingLastPathComponent
        return [
            (directory as NSString).appendingPathComponent("capstan-init"),
            ((directory as NSString).appendingPathComponent("../libexec/capstan/capstan-init") as NSString).standardizingPath,
        ]
    }

    /// What a launch says when `capstan-init` is missing: every place it looked, and how to get it there.
    public static func missingInitMessage(looked candidates: [String]) -> String {
        "capstan-init, the container's monitor, is not executable at \(candidates.map { "'\($0)'" }.joined(separator: " or ")); "
            + "`swift build` builds it beside `capstan`, `scripts/install.sh PREFIX` installs both, and $CAPSTAN_INIT names another path"
    }

    private static func runningExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// The state directory of a container.
    public func stateDirectory(of id: ContainerID) -> String {
        "\(workDirectory)/containers/\(id)"
    }

    /// Where the container's writes to its root filesystem land when it has one from image layers: the overlay upper
    /// dir (absent with the copy backend, whose private copy holds the image too); `nil` without such a rootfs.
    public func writableLayerDirectory(of config: ContainerConfig) -> String? {
        guard case .layers = config.rootfs else { return nil }
        return OverlayProvisioner.upperDirectory(stateDirectory: stateDirectory(of: config.containerID))
    }

    /// ``writableLayerDirectory(of:)`` and the overlay work dir beside it, through which overlayfs renames the files it
    /// copies up: what `disk/xfs` tags with the container's project (a rename into a directory that passes on another
    /// project fails with EXDEV). Empty without such a rootfs.
    public func writableLayerDirectories(of config: ContainerConfig) -> [String] {
        guard let upper = writableLayerDirectory(of: config) else { return [] }
        return [upper, stateDirectory(of: config.containerID) + "/work"]
    }

    /// Prepares the rootfs and starts `capstan-init`, which waits at its barrier. A step of ``start(_:hooks:started:place:)``.
    public func launch(_ config: ContainerConfig, hooks: LaunchHooks) async throws -> LaunchedProcess {
        var logger = self.logger
        logger[metadataKey: "container_id"] = "\(config.containerID)"
        guard geteuid() == 0 else {
            throw CapstanError(.permissionDenied, "Failed to launch: the Linux launcher needs root (namespaces, mounts)")
        }
        guard access(initPath, X_OK) == 0 else {
            let looked = initPath == Self.defaultInitPath()
                ? Self.initCandidates(executable: Self.runningExecutable(), environment: ProcessInfo.processInfo.environment) : [initPath]
            throw CapstanError(.failedPrecondition, "Failed to launch: " + Self.missingInitMessage(looked: looked))
        }
        let state = stateDirectory(of: config.containerID)
        let spec = try initSpec(config, hooks: hooks, state: state)
        let provisioner = self.provisioner
        let initPath = self.initPath
        let spare = self.spare
        let workDirectory = self.workDirectory
        let held: (HeldChild, Int32)
        do {
            held = try await DedicatedThread.run(name: "capstan-spawn") {
                // capstan-init starts (a large binary: its loader takes a few ms) while its state is prepared; it
                // waits for the spec on fd 3, which is written once the rootfs directories exist.
                let fromSpare = spare.take()
                var (child, syncFD, specWriter) = try fromSpare ?? Self.spawnInit(initPath: initPath, workDirectory: workDirectory)
                do {
                    try? FileManager.default.removeItem(atPath: state)
                    do { try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true) } catch {
                        throw CapstanError(.internal, "Failed to launch: mkdir '\(state)': \(error)")
                    }
                    if let rootfs = config.rootfs, let plan = spec.plan {
                        let layers: [String] = if case .layers(let layers) = rootfs { layers } else { [] }
                        try provisioner.materialize(plan, layers: layers)
                    }
                    do { try Self.writeSpec(spec.spec, to: specWriter) } catch where fromSpare != nil {
                        // The spare died since it was started: start a fresh capstan-init instead.
                        Self.collect(child, syncFD, specWriter)
                        (child, syncFD, specWriter) = try Self.spawnInit(initPath: initPath, workDirectory: workDirectory)
                        try Self.writeSpec(spec.spec, to: specWriter)
                    }
                    close(specWriter)
                } catch {
                    Self.collect(child, syncFD, specWriter)
                    throw error
                }
                return (child, syncFD)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: state)
            throw error
        }
        let (child, syncFD) = held
        table.add(child.pid, ProcessTable.Record(origin: .child, path: initPath, held: nil))
        syncFDs.withLock { $0[child.pid] = syncFD }
        states.withLock { $0[child.pid] = state }
        logger.debug(
            "Started capstan-init; its PID 1 waits at the barrier before the task",
            metadata: ["pid": "\(child.pid)", "rootfs": "\(spec.plan?.backend.rawValue ?? "host")"])
        return LaunchedProcess(
            pid: child.pid, startedAt: Date().timeIntervalSince1970, startTicks: ProcStat.read(pid: child.pid)?.startTicks)
    }

    /// Starts `capstan-init` (the monitor), hands it to `started`, places it and then its PID 1 — which builds the
    /// root filesystem meanwhile and waits at its barrier — with `place`, and releases the task. A placement that fails
    /// because the container had already failed reports the container's own failed step. See
    /// ``Launcher/start(_:hooks:started:place:)``.
    public func start(
        _ config: ContainerConfig, hooks: LaunchHooks,
        started: @Sendable (LaunchedProcess) async throws -> Void,
        place: @Sendable (Int32) async throws -> Void
    ) async throws -> LaunchedProcess {
        let process = try await launch(config, hooks: hooks)
        try await started(process)
        do { try await place(process.pid) } catch { throw await earlyFailure(process) ?? error }
        for pid in try await heldProcesses(process) {
            do { try await place(pid) } catch { throw await earlyFailure(process) ?? error }
        }
        try await resume(process)
        return process
    }

    /// The container's PID 1 (host pid), which `capstan-init` forked at once and reported on the sync socket; it
    /// waits at the barrier, so the isolators place it before the task exists. A step of ``start(_:hooks:started:place:)``.
    public func heldProcesses(_ process: LaunchedProcess) async throws -> [Int32] {
        // Taken out of the table while it is read, so that `wait` (the monitor may end meanwhile) neither reads the
        // same socket nor closes it under this read; put back for `resume`.
        guard let syncFD = syncFDs.withLock({ $0.removeValue(forKey: process.pid) }) else { return [] }
        do {
            let pid1 = try await DedicatedThread.run(name: "capstan-spawn") { try Self.readInitPID(syncFD) }
            initPIDs.withLock { $0[process.pid] = pid1 }
            syncFDs.withLock { $0[process.pid] = syncFD }
            return [pid1]
        } catch {
            close(syncFD)
            throw error
        }
    }

    /// What capstan-init reported on the sync socket when its PID 1 already failed at a step (the report it sends
    /// before it exits), waiting a moment at most. A step of ``start(_:hooks:started:place:)``.
    public func earlyFailure(_ process: LaunchedProcess) async -> CapstanError? {
        let report: InitFailure?
        if let syncFD = syncFDs.withLock({ $0.removeValue(forKey: process.pid) }) {
            initPIDs.withLock { $0[process.pid] = nil }
            report = await DedicatedThread.run(name: "capstan-spawn") {
                defer { close(syncFD) }
                return Self.failureReport(syncFD, waitingMilliseconds: 100)
            }
        } else {
            report = initReports.withLock { $0.removeValue(forKey: process.pid) }
        }
        return report.map(Self.launchError)
    }

    /// The failed step among the reports readable on a sync socket now (or within `waitingMilliseconds`),
    /// skipping `pid1` and `started`; nil when there is none. Never blocks longer than that.
    static func failureReport(_ syncFD: Int32, waitingMilliseconds: Int32) -> InitFailure? {
        while let report = try? readReport(syncFD, waitingMilliseconds: waitingMilliseconds) {
            if case .failed(let failure) = report { return failure }
        }
        return nil
    }

    /// Reads one report frame, exactly its bytes (nothing after it is consumed). Nil at EOF, or when
    /// `waitingMilliseconds` is given and nothing arrives in that time; throws on bytes that are not a report.
    static func readReport(_ syncFD: Int32, waitingMilliseconds: Int32? = nil) throws -> InitReport? {
        if let waitingMilliseconds {
            var pending = pollfd(fd: syncFD, events: Int16(POLLIN), revents: 0)
            var ready: Int32
            repeat { ready = poll(&pending, 1, waitingMilliseconds) } while ready < 0 && errno == EINTR
            guard ready > 0, pending.revents & Int16(POLLIN | POLLHUP) != 0 else { return nil }
        }
        guard let header = readExactly(syncFD, 3) else { return nil }
        guard let length = InitReport.payloadLength(header: header), let payload = readExactly(syncFD, length),
            let report = InitReport.decode(header: header, payload: payload)
        else {
            throw CapstanError(
                .internal, "Failed to launch: capstan-init sent a report this agent cannot read (tag \(header[0])); is it from the same build as capstan?")
        }
        return report
    }

    /// `count` bytes, or nil at EOF (or an error) before them.
    private static func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            offset += n
        }
        return bytes
    }

    /// The launch error for a failed step: the errno's code (`internal` when no system call failed) and the step
    /// as capstan-init describes it.
    static func launchError(_ failure: InitFailure) -> CapstanError {
        guard failure.errno != 0 else { return CapstanError(.internal, "Failed to launch: \(failure.detail)") }
        let system = CapstanError.system("", errno: failure.errno)
        return CapstanError(system.code, "Failed to launch: \(failure.detail): \(String(cString: strerror(failure.errno))) (errno \(failure.errno))")
    }

    /// Lets the container's PID 1 fork the task, then waits until it has executed the task or reported the failed
    /// step. A step of ``start(_:hooks:started:place:)``.
    public func resume(_ process: LaunchedProcess) async throws {
        guard let syncFD = syncFDs.withLock({ $0.removeValue(forKey: process.pid) }) else {
            // The monitor ended (and was collected) before the task was released.
            if let report = initReports.withLock({ $0.removeValue(forKey: process.pid) }) { throw Self.launchError(report) }
            throw CapstanError(.internal, "Failed to launch: capstan-init exited before it started the task")
        }
        let spare = self.spare
        let initPath = self.initPath
        let workDirectory = self.workDirectory
        let pidReported = initPIDs.withLock { $0.removeValue(forKey: process.pid) } != nil
        try await DedicatedThread.run(name: "capstan-spawn") {
            defer { close(syncFD) }
            if !pidReported { _ = try Self.readInitPID(syncFD) }
            // PID 1 waits at its barrier for this byte before it forks the task. A failed send still reads on: PID 1
            // may have reported its failed step before it ended.
            var go: UInt8 = 1
            let released = send(syncFD, &go, 1, Int32(MSG_NOSIGNAL)) == 1
            // One report: `started`, or the failed step. Read exactly one frame: EOF may come late, as another fork in
            // this process can briefly hold a copy of capstan-init's end.
            switch try Self.readReport(syncFD) {
            case .started? where released:
                spare.refill { try? Self.spawnInit(initPath: initPath, workDirectory: workDirectory) }
            case .failed(let failure)?:
                throw Self.launchError(failure)
            default:
                throw CapstanError(
                    .internal, "Failed to launch: capstan-init exited before \(released ? "it started the task" : "it was released")")
            }
        }
    }

    /// The container's PID 1: the only child of its `capstan-init` monitor (also for a container adopted at recovery).
    /// See ``Launcher/namespaceProcess(of:)``.
    public func namespaceProcess(of process: LaunchedProcess) async -> Int32? {
        ProcessTree.firstChild(of: process.pid)
    }

    /// Signals the monitor's process group (monitor, PID 1 and the task). See ``Launcher/signal(_:_:)``.
    public func signal(_ process: LaunchedProcess, _ signal: Int32) throws {
        try table.signal(process.pid, signal)
    }

    /// Waits for the monitor, then removes the container's state. See ``Launcher/wait(_:)``.
    public func wait(_ process: LaunchedProcess) async -> ContainerTermination {
        let origin = table.origin(of: process.pid)
        let state = stateDirectory(ofPID: process.pid)
        var termination: ContainerTermination
        switch origin {
        case .child: termination = await ProcessReaper.waitForChild(process.pid, table: table)
        case .adopted:
            termination = await ProcessReaper.waitForAdopted(process.pid, startTicks: process.startTicks, table: table)
            if let state, let recorded = Self.readExitStatus(state) { termination = recorded }
        case nil: return .unknown("Failed to wait for the command: process \(process.pid) is not known to the launcher")
        }
        // Ended before its task was released: keep the step it reported for `resume` or `earlyFailure`. Read and
        // kept under the socket table's lock (the read does not block: the monitor has ended, so every report is in
        // the socket), so that an `earlyFailure` racing this finds either the socket or the kept report.
        let initReports = self.initReports
        syncFDs.withLock { fds in
            guard let syncFD = fds.removeValue(forKey: process.pid) else { return }
            if let report = Self.failureReport(syncFD, waitingMilliseconds: 0) { initReports.withLock { $0[process.pid] = report } }
            close(syncFD)
        }
        initPIDs.withLock { $0[process.pid] = nil }
        if let state { await Self.removeAside(state) }
        states.withLock { $0[process.pid] = nil }
        return termination
    }

    /// Sums `/proc/<pid>/stat` over the container's processes. See ``Launcher/usage(_:)``.
    public func usage(_ process: LaunchedProcess) async throws -> ResourceStatistics? {
        ProcStat.usage(ofSession: process.pid)
    }

    /// Adopts monitors that still run (same pid, session leader, same start time). The state of the others stays for
    /// ``recoveredTermination(of:)``. See ``Launcher/recover(_:)``.
    public func recover(_ recoveryStates: [ContainerRecoveryState]) async throws -> [ContainerID: LaunchedProcess] {
        var alive: [ContainerID: LaunchedProcess] = [:]
        let bootTime = ProcStat.bootTime()
        for state in recoveryStates {
            var logger = self.logger
            logger[metadataKey: "container_id"] = "\(state.containerID)"
            let directory = stateDirectory(of: state.containerID)
            guard let pid = state.pid, let stat = ProcStat.read(pid: pid), !stat.isZombie, stat.session == pid,
                state.startTicks.map({ $0 == stat.startTicks }) ?? true
            else {
                logger.info("The container's monitor is gone", metadata: ["pid": "\(state.pid.map(String.init) ?? "none")"])
                continue
            }
            table.add(pid, ProcessTable.Record(origin: .adopted, path: initPath, held: nil))
            states.withLock { $0[pid] = directory }
            let startedAt = bootTime.map { $0 + Double(stat.startTicks) / ProcStat.ticksPerSecond } ?? 0
            alive[state.containerID] = LaunchedProcess(pid: pid, startedAt: startedAt, startTicks: stat.startTicks)
            logger.info("Recovered the container's monitor", metadata: ["pid": "\(pid)"])
        }
        return alive
    }

    /// The status `capstan-init` wrote to `exit_status` before it ended; removes the container's state.
    /// See ``Launcher/recoveredTermination(of:)``.
    public func recoveredTermination(of state: ContainerRecoveryState) async -> ContainerTermination? {
        let directory = stateDirectory(of: state.containerID)
        return await DedicatedThread.run(name: "capstan-cleanup") {
            defer { try? FileManager.default.removeItem(atPath: directory) }
            return Self.readExitStatus(directory)
        }
    }

    /// Removes `containers/<id>` directories of containers not in `known`. Nothing is mounted in them on the host:
    /// the rootfs is assembled in the container's own mount namespace. See ``Launcher/removeLeftovers(keeping:)``.
    public func removeLeftovers(keeping known: Set<ContainerID>) async -> [ContainerID] {
        let base = "\(workDirectory)/containers"
        return await DedicatedThread.run(name: "capstan-cleanup") {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
            var removed: [ContainerID] = []
            for name in names where name.hasPrefix(Self.removedPrefix) {
                try? FileManager.default.removeItem(atPath: base + "/" + name)
            }
            for name in names.sorted() where !name.hasPrefix(".") && !known.contains(ContainerID(name)) {
                try? FileManager.default.removeItem(atPath: base + "/" + name)
                removed.append(ContainerID(name))
            }
            return removed
        }
    }

    /// The termination recorded in `<state>/exit_status`, if there is one.
    static func readExitStatus(_ state: String) -> ContainerTermination? {
        guard let text = try? String(contentsOfFile: state + "/" + ExitStatusFile.name, encoding: .utf8),
            let status = ExitStatusFile.decode(text)
        else { return nil }
        return status.signal.map(ContainerTermination.signaled) ?? .exited(status.exitCode ?? 127)
    }

    // MARK: Internals

    private let states = LockedBox<[Int32: String]>([:])
    /// Names of ended containers' state directories renamed aside for removal (see ``removeAside(_:)``).
    static let removedPrefix = ".removed-"

    /// Renames an ended container's state directory aside at once (so the id can be launched again right away) and
    /// removes it on a background thread: the termination does not wait for the rmdirs. What a crash leaves behind
    /// goes with ``removeLeftovers(keeping:)``.
    private static func removeAside(_ state: String) async {
        let directory = (state as NSString).deletingLastPathComponent
        let aside = directory + "/" + removedPrefix + (state as NSString).lastPathComponent + "-" + UUID().uuidString
        guard rename(state, aside) == 0 else {
            await DedicatedThread.run(name: "capstan-cleanup") { try? FileManager.default.removeItem(atPath: state) }
            return
        }
        Task.detached { await DedicatedThread.run(name: "capstan-cleanup") { try? FileManager.default.removeItem(atPath: aside) } }
    }

    /// Monitor pid → the container's PID 1, once read by ``heldProcesses(_:)``.
    private let initPIDs = LockedBox<[Int32: Int32]>([:])

    /// Reads `capstan-init`'s first report, `pid1` (the host pid of the container's PID 1); a `failed` report is the
    /// step that failed.
    private static func readInitPID(_ syncFD: Int32) throws -> Int32 {
        switch try readReport(syncFD) {
        case .pid1(let pid)? where pid > 0: return pid
        case .failed(let failure)?: throw launchError(failure)
        case nil: throw CapstanError(.internal, "Failed to launch: capstan-init exited before it started the container's PID 1")
        case let other?: throw CapstanError(.internal, "Failed to launch: capstan-init reported \(other) before its PID 1")
        }
    }

    private func stateDirectory(ofPID pid: Int32) -> String? {
        states.withLock { $0[pid] }
    }

    /// The spec for `capstan-init` and the rootfs plan.
    private func initSpec(_ config: ContainerConfig, hooks: LaunchHooks, state: String) throws -> (spec: InitSpec, plan: RootfsPlan?) {
        let plan = config.rootfs.map { provisioner.plan($0, stateDirectory: state) }
        let process = try Self.process(config, hooks: hooks, hasRootfs: plan != nil)
        var spec = InitSpec(
            containerID: "\(config.containerID)", stateDirectory: state, rootfs: plan?.initRootfs,
            sandboxDirectory: config.sandboxDirectory, sandboxTarget: Self.sandboxTarget,
            mounts: config.mounts.map {
                InitSpec.BindMount(source: $0.source, target: $0.target, readOnly: $0.readOnly, refusesSymlinks: $0.refusesSymlinks, handedToTask: $0.handedToTask)
            },
            hostname: config.hostname ?? String("\(config.containerID)".prefix(64)),
            isolateNetwork: config.networkMode == .isolated, process: process)
        spec.deviceNodes = config.deviceNodes.map {
            InitSpec.DeviceNode(
                path: $0.path, major: UInt32($0.major), minor: UInt32($0.minor), kind: $0.kind.rawValue, mode: $0.fileMode, uid: $0.uid,
                gid: $0.gid)
        }
        return (spec, plan)
    }

    /// The task's program, environment, working directory and user: the command laid over the image's config,
    /// as Mesos does (a shell command ignores the entrypoint; a command without a value runs entrypoint + cmd,
    /// with the command's arguments replacing cmd).
    static func process(_ config: ContainerConfig, hooks: LaunchHooks, hasRootfs: Bool) throws -> InitSpec.Process {
        var command = config.command
        let image = config.imageConfig ?? ImageProcessConfig()
        if !command.shell && command.value == nil {
            let argv = image.entrypoint + (command.arguments.isEmpty ? image.cmd : command.arguments)
            guard let first = argv.first else {
                throw CapstanError(.invalidArgument, "Failed to launch: neither the command nor the image names a program")
            }
            command.value = first
            command.arguments = argv
        }
        var environment: [String: String] = [:]
        for entry in image.env {
            guard let eq = entry.firstIndex(of: "=") else { continue }
            environment[String(entry[..<eq])] = String(entry[entry.index(after: eq)...])
        }
        environment.merge(command.environment) { _, task in task }
        if hasRootfs {
            environment["MESOS_SANDBOX"] = sandboxTarget
            if environment["PATH"] == nil { environment["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" }
        }
        command.environment = environment
        let program = try Program(command, hooks: hooks)
        let workingDirectory = config.workingDirectory ?? image.workingDir.flatMap { $0.isEmpty ? nil : $0 }
            ?? (hasRootfs ? sandboxTarget : config.sandboxDirectory)
        let user = command.user ?? image.user.flatMap { $0.isEmpty ? nil : $0 }
        return InitSpec.Process(
            path: program.path, arguments: program.arguments, environment: program.environment,
            workingDirectory: workingDirectory, user: user, additionalGroups: config.additionalGids.isEmpty ? nil : config.additionalGids)
    }

    /// Kills and reaps a `capstan-init` that will not get (or did not take) its spec, and closes the agent's ends.
    private static func collect(_ child: HeldChild, _ syncFD: Int32, _ specFD: Int32) {
        close(specFD)
        close(syncFD)
        kill(child.pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// The spec as JSON, written whole to the socket `capstan-init` reads to EOF (the caller closes it).
    private static func writeSpec(_ spec: InitSpec, to fd: Int32) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json: [UInt8]
        do { json = Array(try encoder.encode(spec)) } catch { throw CapstanError(.internal, "Failed to launch: encode of the spec: \(error)") }
        var offset = 0
        while offset < json.count {
            let n = json.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw CapstanError.system("Failed to launch: write of the spec to capstan-init", errno: n < 0 ? errno : EIO) }
            offset += n
        }
    }

    /// Opens the spec socket and the sync socket and spawns `capstan-init`, which reads the spec from fd 3 (to EOF)
    /// and whose PID 1 waits for a byte on fd 4. Returns the child, the agent's end of the sync socket and of the spec's.
    static func spawnInit(initPath: String, workDirectory: String) throws -> (HeldChild, Int32, Int32) {
        // A socket rather than a pipe: the agent writes with MSG_NOSIGNAL, so a capstan-init that died early is an
        // error here, never a SIGPIPE for the agent.
        var specPipe: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &specPipe) == 0 else {
            throw CapstanError.system("Failed to launch: socketpair for the spec", errno: errno)
        }
        let specFD = specPipe[0]
        defer { close(specFD) }
        var handedOver = false
        defer { if !handedOver { close(specPipe[1]) } }
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw CapstanError.system("Failed to launch: socketpair", errno: errno)
        }
        defer { close(pair[1]) }
        // The work directory names the launcher in `ps` (a spare does not know its container yet).
        var request = SpawnRequest(path: initPath, arguments: ["capstan-init", workDirectory], environment: [])
        request.workingDirectory = "/"
        request.stdio = (-1, -1, -1)  // capstan-init opens the sandbox's stdout and stderr once it has the spec
        request.extraFDs = [specFD, pair[1]]
        do {
            let child = try Spawner.spawn(request)
            handedOver = true
            return (child, pair[0], specPipe[1])
        } catch {
            close(pair[0])
            throw error
        }
    }
}
