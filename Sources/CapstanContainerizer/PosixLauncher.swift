public import CapstanCore
import CapstanLinux
import CapstanInitSpec
import Foundation
import Glibc
public import Logging

/// Launches a container as a plain process in a session of its own (no namespaces).
///
/// The process is forked by the C shim, becomes a session and process-group leader (`setsid`), gets
/// `/dev/null` as stdin and the sandbox's `stdout`/`stderr` files (appended), switches to the command's user
/// when the agent is root, enters the sandbox, then waits before execve until ``resume(_:)``. No other fd of the
/// agent is inherited. Signals go to the whole process group and session, so a task's children die with it.
/// A non-root task user gets the sandbox directory (and its output files), so the task can write there, and `HOME`
/// and `USER` from its passwd entry where the command's environment names none.
///
/// With a state directory, the session leader is a monitor (`capstan-init --task-monitor`) that forks the task, waits
/// for it and writes its exit status to `<state>/<container id>.exit_status`, so that a task which ends while the
/// agent is down still reports its real status after recovery (``recoveredTermination(of:)``), as Mesos' command
/// executor outlives the agent. Without one (or without `capstan-init`) the task leads its session itself.
public struct PosixLauncher: Launcher {
    private let logger: Logger
    private let table = ProcessTable()
    private let stateDirectory: String?
    private let monitorPath: String?
    /// Leader pid → the exit status file its monitor writes.
    private let statusFiles = LockedBox<[Int32: String]>([:])

    /// Creates a launcher that logs through `logger` (label e.g. `capstan.agent.containerizer`).
    /// - Parameters:
    ///   - stateDirectory: where task monitors keep exit statuses; `nil` runs tasks without a monitor.
    ///   - monitorPath: the `capstan-init` executable; `nil` takes ``LinuxLauncher/defaultInitPath()``. When it is not
    ///     executable, tasks run without a monitor (logged once per launch).
    public init(logger: Logger, stateDirectory: String? = nil, monitorPath: String? = nil) {
        self.logger = logger
        self.stateDirectory = stateDirectory
        self.monitorPath = stateDirectory == nil ? nil : (monitorPath ?? LinuxLauncher.defaultInitPath())
    }

    /// The file a container's monitor writes its task's exit status to.
    func statusFile(_ id: ContainerID) -> String? {
        stateDirectory.map { "\($0)/\(id).\(ExitStatusFile.name)" }
    }

    /// Starts the process held before execve (the first step of ``start(_:hooks:started:place:)``).
    public func launch(_ config: ContainerConfig, hooks: LaunchHooks) async throws -> LaunchedProcess {
        var logger = self.logger
        logger[metadataKey: "container_id"] = "\(config.containerID)"
        guard config.rootfs == nil else {
            throw CapstanError(
                .unsupported, "Failed to launch: the plain launcher cannot give a container a root filesystem; the Linux launcher (root) can")
        }
        let program = try Program(config.command, hooks: hooks)
        let switchUser = config.command.user.flatMap { geteuid() == 0 ? $0 : nil }
        if let user = config.command.user, switchUser == nil {
            logger.debug("Not switching to the task's user: the agent is not root", metadata: ["user": "\(user)"])
        }
        let sandbox = config.sandboxDirectory
        let monitor = try monitor(for: config.containerID, logger: logger)
        let held = try await DedicatedThread.run(name: "capstan-spawn") {
            let user = try switchUser.map(UserAccount.lookup)
            if let user, user.uid != 0, chown(sandbox, user.uid, user.gid) != 0 {
                throw CapstanError.system("Failed to launch: chown of the sandbox '\(sandbox)' to user '\(user.name)'", errno: errno)
            }
            let stdout = try openOutput(sandbox + "/stdout", owner: user)
            defer { close(stdout) }
            let stderr = try openOutput(sandbox + "/stderr", owner: user)
            defer { close(stderr) }
            var environment = program.environment
            if let user { environment = Self.loginEnvironment(environment, user: user) }
            var request = SpawnRequest(path: program.path, arguments: program.arguments, environment: environment)
            request.workingDirectory = sandbox
            request.stdio = (-1, stdout, stderr)
            request.user = user
            request.hold = true
            request.monitor = monitor.map { (path: $0.path, arguments: ["capstan-init", "--task-monitor", $0.statusFile]) }
            return try Spawner.spawn(request)
        }
        if let monitor { statusFiles.withLock { $0[held.pid] = monitor.statusFile } }
        table.add(held.pid, ProcessTable.Record(origin: .child, path: program.path, held: held))
        let process = LaunchedProcess(
            pid: held.pid, startedAt: Date().timeIntervalSince1970, startTicks: ProcStat.read(pid: held.pid)?.startTicks)
        logger.debug("Started the container's process, held before execve", metadata: ["pid": "\(held.pid)"])
        return process
    }

    /// Launches the process held before `exec`, hands it to `started` and `place`, then lets it execute the command.
    /// See ``Launcher/start(_:hooks:started:place:)``.
    public func start(
        _ config: ContainerConfig, hooks: LaunchHooks,
        started: @Sendable (LaunchedProcess) async throws -> Void,
        place: @Sendable (Int32) async throws -> Void
    ) async throws -> LaunchedProcess {
        let process = try await launch(config, hooks: hooks)
        try await started(process)
        try await place(process.pid)
        try await resume(process)
        return process
    }

    /// Lets the held process execve the task (the last step of ``start(_:hooks:started:place:)``).
    public func resume(_ process: LaunchedProcess) async throws {
        guard let (held, path) = table.takeHeld(process.pid) else { return }
        try await DedicatedThread.run(name: "capstan-spawn") { try Spawner.release(held, path: path) }
    }

    /// Signals the process group and session. See ``Launcher/signal(_:_:)``.
    public func signal(_ process: LaunchedProcess, _ signal: Int32) throws {
        try table.signal(process.pid, signal)
    }

    /// Waits on a dedicated thread. A process adopted at recovery reports the status its monitor kept, if any.
    /// See ``Launcher/wait(_:)``.
    public func wait(_ process: LaunchedProcess) async -> ContainerTermination {
        let statusFile = statusFiles.withLock { $0[process.pid] }
        var termination: ContainerTermination
        switch table.origin(of: process.pid) {
        case .child: termination = await ProcessReaper.waitForChild(process.pid, table: table)
        case .adopted:
            termination = await ProcessReaper.waitForAdopted(process.pid, startTicks: process.startTicks, table: table)
            if let statusFile, let kept = Self.readExitStatus(statusFile) { termination = kept }
        case nil: return .unknown("Failed to wait for the command: process \(process.pid) is not known to the launcher")
        }
        if let statusFile {
            unlink(statusFile)
            statusFiles.withLock { $0[process.pid] = nil }
        }
        return termination
    }

    /// The status the monitor of a container that ended while the agent was down kept; removes it.
    /// See ``Launcher/recoveredTermination(of:)``.
    public func recoveredTermination(of state: ContainerRecoveryState) async -> ContainerTermination? {
        guard let path = statusFile(state.containerID) else { return nil }
        defer { unlink(path) }
        return Self.readExitStatus(path)
    }

    /// Removes exit status files of containers not in `known`. See ``Launcher/removeLeftovers(keeping:)``.
    public func removeLeftovers(keeping known: Set<ContainerID>) async -> [ContainerID] {
        guard let stateDirectory else { return [] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: stateDirectory)) ?? []
        for name in names {
            var id = name
            for suffix in [".tmp", "." + ExitStatusFile.name] where id.hasSuffix(suffix) { id.removeLast(suffix.count) }
            if !known.contains(ContainerID(id)) { unlink(stateDirectory + "/" + name) }
        }
        return []
    }

    /// `capstan-init` as the monitor of a new container, with the file it writes; `nil` runs the task unmonitored.
    private func monitor(for id: ContainerID, logger: Logger) throws -> (path: String, statusFile: String)? {
        guard let stateDirectory, let monitorPath, let statusFile = statusFile(id) else { return nil }
        guard access(monitorPath, X_OK) == 0 else {
            logger.warning(
                "capstan-init is not executable: the task runs without a monitor, and its exit status is lost if the agent restarts first",
                metadata: ["path": "\(monitorPath)"])
            return nil
        }
        do { try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true) } catch {
            throw CapstanError(.internal, "Failed to launch: mkdir '\(stateDirectory)': \(error)")
        }
        unlink(statusFile)
        return (monitorPath, statusFile)
    }

    /// The termination recorded in a monitor's status file, if there is one.
    static func readExitStatus(_ path: String) -> ContainerTermination? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let status = ExitStatusFile.decode(text) else { return nil }
        return status.signal.map(ContainerTermination.signaled) ?? .exited(status.exitCode ?? 127)
    }

    /// `HOME`, `USER` and `LOGNAME` of the task's user, where the environment names none.
    static func loginEnvironment(_ environment: [String], user: UserAccount) -> [String] {
        var result = environment
        for (name, value) in [("HOME", user.home), ("USER", user.name), ("LOGNAME", user.name)]
        where !environment.contains(where: { $0.hasPrefix(name + "=") }) {
            result.append("\(name)=\(value)")
        }
        return result.sorted()
    }

    /// Sums `/proc/<pid>/stat` over the session and process group. See ``Launcher/usage(_:)``.
    public func usage(_ process: LaunchedProcess) async throws -> ResourceStatistics? {
        ProcStat.usage(ofSession: process.pid)
    }

    /// Adopts checkpointed processes that still lead their session with the same start time.
    /// See ``Launcher/recover(_:)``.
    public func recover(_ states: [ContainerRecoveryState]) async throws -> [ContainerID: LaunchedProcess] {
        var alive: [ContainerID: LaunchedProcess] = [:]
        let bootTime = ProcStat.bootTime()
        for state in states {
            var logger = self.logger
            logger[metadataKey: "container_id"] = "\(state.containerID)"
            guard let pid = state.pid, let stat = ProcStat.read(pid: pid), !stat.isZombie, stat.session == pid,
                state.startTicks.map({ $0 == stat.startTicks }) ?? true
            else {
                logger.info("The container's process is gone", metadata: ["pid": "\(state.pid.map(String.init) ?? "none")"])
                continue
            }
            table.add(pid, ProcessTable.Record(origin: .adopted, path: state.config.command.value ?? "", held: nil))
            if let file = statusFile(state.containerID) { statusFiles.withLock { $0[pid] = file } }
            let startedAt = bootTime.map { $0 + Double(stat.startTicks) / ProcStat.ticksPerSecond } ?? 0
            alive[state.containerID] = LaunchedProcess(pid: pid, startedAt: startedAt, startTicks: stat.startTicks)
            logger.info("Recovered the container's process", metadata: ["pid": "\(pid)"])
        }
        return alive
    }
}

/// Opens a sandbox output file for appending (created 0644; a symlink is refused) and hands it to `owner`.
private func openOutput(_ path: String, owner: UserAccount?) throws -> Int32 {
    let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o644)
    guard fd >= 0 else { throw CapstanError.system("Failed to launch: open '\(path)'", errno: errno) }
    if let owner, fchown(fd, owner.uid, owner.gid) != 0 {
        let err = errno
        close(fd)
        throw CapstanError.system("Failed to launch: fchown '\(path)' to user '\(owner.name)'", errno: err)
    }
    return fd
}

/// What to execve for a command: the program, its argument vector and its environment.
struct Program: Sendable, Equatable {
    var path: String
    var arguments: [String]
    /// Sorted `NAME=value` entries.
    var environment: [String]

    /// Resolves `command` as Mesos does: shell commands run under `/bin/sh -c`; others execute `value`
    /// with `arguments` as the whole argument vector. Hook variables win over the command's.
    init(_ command: CommandSpec, hooks: LaunchHooks) throws {
        if command.shell {
            guard let value = command.value else {
                throw CapstanError(.invalidArgument, "Failed to launch: a shell command needs a value")
            }
            path = "/bin/sh"
            arguments = ["sh", "-c", value]
        } else {
            guard let value = command.value ?? command.arguments.first, !value.isEmpty else {
                throw CapstanError(.invalidArgument, "Failed to launch: the command names no program to execute")
            }
            path = value
            arguments = command.arguments.isEmpty ? [value] : command.arguments
        }
        let merged = command.environment.merging(hooks.environment) { _, hook in hook }
        environment = merged.map { "\($0.key)=\($0.value)" }.sorted()
    }
}
