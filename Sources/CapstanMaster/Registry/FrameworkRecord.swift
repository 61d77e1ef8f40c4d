import Logging
import CapstanAPI
import CapstanCore
import CapstanHTTP

/// The live scheduler connection of a framework: one RecordIO stream.
struct SchedulerConnection: Sendable {
    var streamID: String
    var continuation: StreamSubscriber<SchedulerEvent>
}

/// What the master knows of one framework.
struct FrameworkRecord: Sendable {
    var id: FrameworkID
    var info: FrameworkInfo
    var connection: SchedulerConnection?
    var registeredAt: Double
    var reregisteredAt: Double?
    var unregisteredAt: Double?
    /// Non-terminal tasks and terminal tasks whose last update is not yet acknowledged.
    var tasks: [TaskID: TaskRecord] = [:]
    /// Recently finished tasks, newest last, bounded.
    var completedTasks: [MesosTask] = []
    var offers: Set<OfferID> = []
    /// Executors known per agent.
    var executors: [AgentID: [ExecutorID: ExecutorInfo]] = [:]
    /// When a disconnected framework is removed, unless it re-subscribes first.
    var failoverDeadline: ContinuousClock.Instant?
    /// Learned from a re-registering agent, never subscribed to this master.
    var recovered = false
    var suppressed = false
    /// The principal that registered the framework (when frameworks authenticate); only it may resume the ID.
    var principal: String? = nil

    var role: String { info.role ?? info.roles.first ?? "*" }
    var isConnected: Bool { connection != nil }

    /// GPU_RESOURCES: only such frameworks are offered agents with GPUs (Mesos 1.0).
    var acceptsGPUs: Bool { info.capabilities.contains { $0.type == .gpuResources } }

    var isPartitionAware: Bool {
        info.capabilities.contains { $0.type == .partitionAware }
    }
}
