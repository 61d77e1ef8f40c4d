import CapstanAPI
import CapstanCore

/// One task the reconciler launched (or found on the master at start-up), with what its labels and status
/// updates say about it.
struct TrackedTask: Sendable {
    var id: TaskID
    var agentID: AgentID
    var app: String
    /// The `capstan.spec` label.
    var template: String
    /// The `capstan.commit` label.
    var commit: String
    var state: TaskState
    /// The last health-check result, nil until one arrives.
    var healthy: Bool?
    /// The app has a health check: a running task counts only once `healthy` is true.
    var hasHealthCheck: Bool
    /// A kill was sent by the reconciler.
    var killRequested = false
    var launchOrder: Int
    var hostname: String
    var attributes: [String: String]
    /// When the task was first seen running (for backoff resets).
    var runningSince: ContinuousClock.Instant?

    var isLive: Bool { !state.isTerminal }

    /// Running, and passing its health check if it has one.
    var isHealthy: Bool {
        state == .taskRunning && !killRequested && (!hasHealthCheck || healthy == true)
    }

    var rolloutTask: RolloutTask {
        let phase: RolloutTask.Phase
        switch state {
        case _ where killRequested: phase = .killing
        case .taskRunning: phase = .running
        case .taskKilling: phase = .killing
        default: phase = .pending
        }
        return RolloutTask(id: id.value, template: template, phase: phase, healthy: isHealthy, launchOrder: launchOrder)
    }
}
