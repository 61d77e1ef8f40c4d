import Logging
import CapstanAPI
import CapstanCore

/// What the master knows of one agent.
struct AgentRecord: Sendable {
    var id: AgentID
    var info: AgentInfo
    var endpoint: HostPort
    var total: Resources
    var version: String
    var registeredAt: Double
    var reregisteredAt: Double?
    var lastHeartbeat: ContinuousClock.Instant
    /// nil while reachable; the wall-clock time it was marked unreachable otherwise.
    var unreachableSince: Double?
    /// The credential the agent registered with (nil when agents are not authenticated); only that principal may
    /// speak for this agent.
    var principal: String? = nil

    var isReachable: Bool { unreachableSince == nil }
}

/// An outstanding offer.
struct OfferRecord: Sendable {
    var offer: Offer
    var frameworkID: FrameworkID
    var agentID: AgentID
    var resources: Resources
    var createdAt: ContinuousClock.Instant
}

/// One task as the master tracks it: the wire `Task` (what operators see) plus its resources in Core form.
struct TaskRecord: Sendable {
    var task: MesosTask
    var resources: Resources
    /// The newest status the master has seen (from the agent or made by the master).
    var latestStatus: TaskStatus?
    /// True once the task's resources went back to the allocator (terminal on the agent).
    var resourcesRecovered = false

    var state: TaskState { task.state }
}
