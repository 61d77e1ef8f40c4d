public import CapstanCore
import Foundation
import Glibc
public import Logging

/// Launches a container as a plain process in a session of its own (no namespaces).
///
/// The process is forked by the C shim, becomes a session and process-group leader (`setsid`), gets
/// `/dev/null` as stdin and the sandbox's `stdout`/`stderr` files (appended), switches to the command's user
/// when the agent is root, enters the sandbox, then waits before execve until ``resume(_:)``. No other fd of the
/// agent is inherited. Signals go to the whole process group and session, so a task's children die with it.
/// A non-root task user gets the sandbox directory (and its output files), so the task can write there.
public struct PosixLauncher: Launcher {
    private let logger: Logger
    private let table = ProcessTable()

    /// Creates a launcher that logs through `logger` (label e.g. `capstan.agent.containerizer`).
    public init(logger: Logger) {
        self.logger = logger
    }

    /// Starts the process held before execve. See ``Launcher/launch(_:hooks:)``.
    public func launch(_ config: ContainerConfig, hooks: LaunchHooks) async throws -> LaunchedProcess {
        var logger = self.logger
        logger[metadataKey: "container_id"] = "\(config.containerID)"
        let program = try Program(config.command, hooks: hooks)
        let switchUser = config.command.user.flatMap { geteuid() == 0 ? $0 : nil }
        if let user = config.command.user, switchUser == nil {
            logger.info("Not switching to the task's user: the agent is not root", metadata: ["user": "\(user)"])
        }
        let sandbox = config.sandboxDirectory
        let held = try await DedicatedThread.run(name: "capstan-spawn") {
            let user = try switchUser.map(UserAccount.lookup)
            if let user, user.uid != 0, chown(sandbox, user.uid, user.gid) != 0 {
                throw CapstanError.system("Failed to launch: chown of the sandbox '\(sandbox)' to user '\(user.name)'", errno: errno)
            }
            let stdout = try openOutput(sandbox + "/stdout", owner: user)
            defer { close(stdout) }
            let stderr = try openOutput(sandbox + "/stderr", owner: user)
            defer { close(stderr) }
            var request = SpawnRequest(path: program.path, arguments: program.arguments, environment: program.environment)
            request.workingDirectory = sandbox
            request.stdio = (-1, stdout, stderr)
            request.user = user
            request.hold = true
            return try Spawner.spawn(request)
        }
        table.add(held.pid, ProcessTable.Record(origin: .child, path: program.path, held: held))
        let process = LaunchedProcess(
            pid: held.pid, startedAt: Date().timeIntervalSince1970, startTicks: ProcStat.read(pid: held.pid)?.startTicks)
        logger.debug("Started the container's process, held before execve", metadata: ["pid": "\(held.pid)"])
        return process
    }

    /// Lets the held process execve the task. See ``Launcher/resume(_:)``.
    public func resume(_ process: LaunchedProcess) async throws {
        guard let (held, path) = table.takeHeld(process.pid) else { return }
        try await DedicatedThread.run(name: "capstan-spawn") { try Spawner.release(held, path: path) }
    }

    /// Signals the process group and session. See ``Launcher/signal(_:_:)``.
    public func signal(_ process: LaunchedProcess, _ signal: Int32) throws {
        try table.signal(process.pid, signal)
    }

    /// Waits on a dedicated thread. See ``Launcher/wait(_:)``.
    public func wait(_ process: LaunchedProcess) async -> ContainerTermination {
        switch table.origin(of: process.pid) {
        case .child: await ProcessReaper.waitForChild(process.pid, table: table)
        case .adopted: await ProcessReaper.waitForAdopted(process.pid, startTicks: process.startTicks, table: table)
        case nil: .unknown("Failed to wait for the command: process \(process.pid) is not known to the launcher")
        }
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
