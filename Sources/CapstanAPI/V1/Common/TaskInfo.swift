import CapstanCore

/// `TaskInfo`: a task as a framework launches it.
public struct TaskInfo: Codable, Sendable, Hashable {
    public var name: String
    public var taskID: TaskID
    public var agentID: AgentID
    @Repeated public var resources: [MesosResource]
    public var executor: ExecutorInfo?
    public var command: CommandInfo?
    public var container: ContainerInfo?
    public var healthCheck: HealthCheck?
    public var check: CheckInfo?
    public var killPolicy: KillPolicy?
    public var data: Base64Bytes?
    public var labels: Labels?
    public var discovery: DiscoveryInfo?
    public var maxCompletionTime: DurationInfo?

    enum CodingKeys: String, CodingKey {
        case name
        case taskID = "task_id"
        case agentID = "agent_id"
        case resources, executor, command, container
        case healthCheck = "health_check"
        case check
        case killPolicy = "kill_policy"
        case data, labels, discovery
        case maxCompletionTime = "max_completion_time"
    }

    public init(
        name: String, taskID: TaskID, agentID: AgentID, resources: [MesosResource] = [], executor: ExecutorInfo? = nil,
        command: CommandInfo? = nil, container: ContainerInfo? = nil, healthCheck: HealthCheck? = nil,
        check: CheckInfo? = nil, killPolicy: KillPolicy? = nil, data: Base64Bytes? = nil, labels: Labels? = nil,
        discovery: DiscoveryInfo? = nil, maxCompletionTime: DurationInfo? = nil
    ) {
        self.name = name
        self.taskID = taskID
        self.agentID = agentID
        self.resources = resources
        self.executor = executor
        self.command = command
        self.container = container
        self.healthCheck = healthCheck
        self.check = check
        self.killPolicy = killPolicy
        self.data = data
        self.labels = labels
        self.discovery = discovery
        self.maxCompletionTime = maxCompletionTime
    }
}

/// `TaskGroupInfo`: tasks launched atomically under one executor.
public struct TaskGroupInfo: Codable, Sendable, Hashable {
    @Repeated public var tasks: [TaskInfo]

    public init(tasks: [TaskInfo] = []) { self.tasks = tasks }
}
