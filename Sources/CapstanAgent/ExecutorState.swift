import CapstanAPI
import CapstanCore
import CapstanHTTP

/// Where an executor's container is in its life; each case carries only what is valid in it.
///
///     launching ──launched──▶ running ──kill, shutdown──▶ terminating ──container ended──▶ terminated
///         │                                                  ▲                                ▲
///         ├──────────────────kill, shutdown──────────────────┘                                │
///         └──────────────────────────────launch failed────────────────────────────────────────┘
///
/// The agent answers the master's run-task message as soon as the executor is `launching`; the launch itself (image
/// pull, unpack, spawn) runs in the task this state holds, which reports how it ended.
enum ExecutorState: Sendable {
    /// The container is being launched by `task`, which the agent owns: a kill cancels it, and its container is
    /// destroyed when the launch returns.
    case launching(task: Task<Void, Never>)
    /// The container runs.
    case running(Running)
    /// A kill or shutdown was asked for and the container is being destroyed. `nil`: the kill came while the container
    /// was still launching, and the launch has not returned yet.
    case terminating(Running?)
    /// The container has ended (or never started).
    case terminated

    /// What belongs to a container whose launch has returned.
    struct Running: Sendable {
        /// The container's first process, checkpointed so a restarted agent can find what it left behind; `nil` while
        /// a custom executor that subscribed before its launch returned waits for it (or when a checkpoint lacks it).
        var pid: Int32?
        /// The custom executor's event stream, once it subscribed.
        var connection: StreamSubscriber<ExecutorEvent>?
        /// The command task's health checker, while one runs (Health/TaskHealthChecker.swift).
        var healthChecker: TaskHealthChecker?
    }

    /// What a kill or shutdown has to do, from ``requestKill()``.
    enum KillAction: Sendable {
        /// The container is still launching: cancel the launch; its container is destroyed when the launch returns.
        case cancelLaunch(Task<Void, Never>)
        /// Destroy the running container.
        case destroy
        /// A kill was asked for before: destroy again (a later call may shorten the grace period).
        case alreadyTerminating
        /// The container has ended already.
        case none
    }

    // MARK: Transitions

    /// The launch returned with the container's first process started. Answers whether the executor runs on (`false`:
    /// a kill came during the launch, or the executor ended, and the container is to be destroyed).
    mutating func launched(pid: Int32?) -> Bool {
        switch self {
        case .launching:
            self = .running(Running(pid: pid))
            return true
        case .running(var running):  // a custom executor subscribed before its launch returned
            running.pid = pid
            self = .running(running)
            return true
        case .terminating(let running):
            var running = running ?? Running()
            running.pid = pid
            self = .terminating(running)
            return false
        case .terminated:
            return false
        }
    }

    /// A kill or shutdown was asked for: the executor is `terminating` from now on.
    mutating func requestKill() -> KillAction {
        switch self {
        case .launching(let task):
            self = .terminating(nil)
            return .cancelLaunch(task)
        case .running(let running):
            self = .terminating(running)
            return .destroy
        case .terminating:
            return .alreadyTerminating
        case .terminated:
            return .none
        }
    }

    /// A custom executor subscribed: its new stream replaces an earlier one, which is returned to be finished. An
    /// executor may subscribe before the agent saw its launch return: it is running then.
    /// - Throws: `failedPrecondition` once the executor has terminated.
    mutating func subscribed(_ connection: StreamSubscriber<ExecutorEvent>, executorID: ExecutorID) throws(CapstanError)
        -> StreamSubscriber<ExecutorEvent>?
    {
        switch self {
        case .launching:
            self = .running(Running(connection: connection))
            return nil
        case .running(var running):
            defer { running.connection = connection; self = .running(running) }
            return running.connection
        case .terminating(let running):
            var running = running ?? Running()
            defer { running.connection = connection; self = .terminating(running) }
            return running.connection
        case .terminated:
            throw CapstanError(.failedPrecondition, "Executor \(executorID) has terminated")
        }
    }

    /// The executor's event stream closed.
    mutating func disconnected() {
        switch self {
        case .running(var running):
            running.connection = nil
            self = .running(running)
        case .terminating(var running?):
            running.connection = nil
            self = .terminating(running)
        case .launching, .terminating(nil), .terminated:
            break
        }
    }

    /// A health checker now checks the running command task; ignored in any other state.
    mutating func startedHealthChecks(_ checker: TaskHealthChecker) {
        guard case .running(var running) = self else { return }
        running.healthChecker = checker
        self = .running(running)
    }

    /// The container ended: answers what ran (to finish its stream and stop its health checks).
    @discardableResult
    mutating func terminate() -> Running? {
        defer { self = .terminated }
        switch self {
        case .running(let running), .terminating(let running?): return running
        case .launching, .terminating(nil), .terminated: return nil
        }
    }

    // MARK: Queries

    /// What runs (pid, stream, health checker) in `running` and `terminating`.
    var runtime: Running? {
        switch self {
        case .running(let running), .terminating(let running?): running
        case .launching, .terminating(nil), .terminated: nil
        }
    }

    var pid: Int32? { runtime?.pid }
    var connection: StreamSubscriber<ExecutorEvent>? { runtime?.connection }
    var healthChecker: TaskHealthChecker? { runtime?.healthChecker }

    /// A kill or shutdown was asked for and the container has not ended yet.
    var isTerminating: Bool {
        if case .terminating = self { return true }
        return false
    }

    var isTerminated: Bool {
        if case .terminated = self { return true }
        return false
    }

    /// The launch has not returned yet (also when a kill came during it).
    var isLaunching: Bool {
        switch self {
        case .launching, .terminating(nil): true
        case .running, .terminating(.some), .terminated: false
        }
    }

    /// The state's name, for logs and tests.
    var name: String {
        switch self {
        case .launching: "launching"
        case .running: "running"
        case .terminating: "terminating"
        case .terminated: "terminated"
        }
    }
}
