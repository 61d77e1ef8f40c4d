import CapstanCore

/// `Task` in mesos.proto: the master's and agent's view of a launched task (renamed so it does not shadow
/// Swift's `Task`).
public struct MesosTask: Codable, Sendable, Hashable {
    public var name: String
    public var taskID: TaskID
    public var frameworkID: FrameworkID
    public var executorID: ExecutorID?
    public var agentID: AgentID
    public var state: TaskState
    @Repeated public var resources: [MesosResource]
    @Repeated public var statuses: [TaskStatus]
    public var statusUpdateState: TaskState?
    public var statusUpdateUUID: Base64Bytes?
    public var labels: Labels?
    public var discovery: DiscoveryInfo?
    public var container: ContainerInfo?
    public var healthCheck: HealthCheck?
    public var killPolicy: KillPolicy?
    public var user: String?
    /// Capstan's addition (Mesos reports it only in the agent's legacy `/state`): the task's sandbox as the agent's
    /// files API serves it, so a client can read `<directory>/stdout` with `/files/read` or `READ_FILE`.
    public var directory: String?

    enum CodingKeys: String, CodingKey {
        case name
        case taskID = "task_id"
        case frameworkID = "framework_id"
        case executorID = "executor_id"
        case agentID = "agent_id"
        case state, resources, statuses
        case statusUpdateState = "status_update_state"
        case statusUpdateUUID = "status_update_uuid"
        case labels, discovery, container
        case healthCheck = "health_check"
        case killPolicy = "kill_policy"
        case user
        case directory
    }

    public init(
        name: String, taskID: TaskID, frameworkID: FrameworkID, executorID: ExecutorID? = nil, agentID: AgentID,
        state: TaskState, resources: [MesosResource] = [], statuses: [TaskStatus] = [],
        statusUpdateState: TaskState? = nil, statusUpdateUUID: Base64Bytes? = nil, labels: Labels? = nil,
        discovery: DiscoveryInfo? = nil, container: ContainerInfo? = nil, healthCheck: HealthCheck? = nil,
        killPolicy: KillPolicy? = nil, user: String? = nil, directory: String? = nil
    ) {
        self.name = name
        self.taskID = taskID
        self.frameworkID = frameworkID
        self.executorID = executorID
        self.agentID = agentID
        self.state = state
        self.resources = resources
        self.statuses = statuses
        self.statusUpdateState = statusUpdateState
        self.statusUpdateUUID = statusUpdateUUID
        self.labels = labels
        self.discovery = discovery
        self.container = container
        self.healthCheck = healthCheck
        self.killPolicy = killPolicy
        self.user = user
        self.directory = directory
    }

    /// The path the agent's files API also serves a sandbox under, whichever container (run) is the executor's
    /// latest: `/slaves/<agent>/frameworks/<framework>/executors/<executor>/runs/latest`. A command task's executor
    /// has the task's ID.
    public static func sandboxAlias(agentID: AgentID, frameworkID: FrameworkID, executorID: ExecutorID) -> String {
        "/slaves/\(agentID.value)/frameworks/\(frameworkID.value)/executors/\(executorID.value)/runs/latest"
    }
}
