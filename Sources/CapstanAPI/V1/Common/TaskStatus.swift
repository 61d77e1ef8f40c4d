import CapstanCore

/// `TaskStatus`: one status update of a task.
public struct TaskStatus: Codable, Sendable, Hashable {
    /// `TaskStatus.Source`: who generated the update.
    public enum Source: String, MesosEnum {
        case sourceMaster = "SOURCE_MASTER"
        case sourceAgent = "SOURCE_AGENT"
        case sourceExecutor = "SOURCE_EXECUTOR"
    }

    public var taskID: TaskID
    public var state: TaskState
    public var message: String?
    public var source: Source?
    public var reason: Reason?
    public var data: Base64Bytes?
    public var agentID: AgentID?
    public var executorID: ExecutorID?
    public var timestamp: Double?
    /// Set when the update must be acknowledged; absent for reconciliation and master-generated updates.
    public var uuid: Base64Bytes?
    public var healthy: Bool?
    public var checkStatus: CheckStatusInfo?
    public var labels: Labels?
    public var containerStatus: ContainerStatus?
    public var unreachableTime: TimeInfo?
    public var limitation: TaskResourceLimitation?

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id"
        case state, message, source, reason, data
        case agentID = "agent_id"
        case executorID = "executor_id"
        case timestamp, uuid, healthy
        case checkStatus = "check_status"
        case labels
        case containerStatus = "container_status"
        case unreachableTime = "unreachable_time"
        case limitation
    }

    public init(
        taskID: TaskID, state: TaskState, message: String? = nil, source: Source? = nil, reason: Reason? = nil,
        data: Base64Bytes? = nil, agentID: AgentID? = nil, executorID: ExecutorID? = nil, timestamp: Double? = nil,
        uuid: Base64Bytes? = nil, healthy: Bool? = nil, checkStatus: CheckStatusInfo? = nil, labels: Labels? = nil,
        containerStatus: ContainerStatus? = nil, unreachableTime: TimeInfo? = nil,
        limitation: TaskResourceLimitation? = nil
    ) {
        self.taskID = taskID
        self.state = state
        self.message = message
        self.source = source
        self.reason = reason
        self.data = data
        self.agentID = agentID
        self.executorID = executorID
        self.timestamp = timestamp
        self.uuid = uuid
        self.healthy = healthy
        self.checkStatus = checkStatus
        self.labels = labels
        self.containerStatus = containerStatus
        self.unreachableTime = unreachableTime
        self.limitation = limitation
    }
}

/// `TaskResourceLimitation`: the resources whose limit a task hit.
public struct TaskResourceLimitation: Codable, Sendable, Hashable {
    @Repeated public var resources: [MesosResource]

    public init(resources: [MesosResource] = []) { self.resources = resources }
}

/// `ContainerStatus`: container facts resolved at launch (IPs, executor pid).
public struct ContainerStatus: Codable, Sendable, Hashable {
    public var containerID: ContainerID?
    @Repeated public var networkInfos: [NetworkInfo]
    public var cgroupInfo: CgroupInfo?
    public var executorPID: UInt32?

    enum CodingKeys: String, CodingKey {
        case containerID = "container_id"
        case networkInfos = "network_infos"
        case cgroupInfo = "cgroup_info"
        case executorPID = "executor_pid"
    }

    public init(
        containerID: ContainerID? = nil, networkInfos: [NetworkInfo] = [], cgroupInfo: CgroupInfo? = nil,
        executorPID: UInt32? = nil
    ) {
        self.containerID = containerID
        self.networkInfos = networkInfos
        self.cgroupInfo = cgroupInfo
        self.executorPID = executorPID
    }
}

/// `CgroupInfo` (only `net_cls` is modelled).
public struct CgroupInfo: Codable, Sendable, Hashable {
    /// `CgroupInfo.NetCls`.
    public struct NetCls: Codable, Sendable, Hashable {
        public var classid: UInt32?

        public init(classid: UInt32? = nil) { self.classid = classid }
    }

    public var netCls: NetCls?

    enum CodingKeys: String, CodingKey { case netCls = "net_cls" }

    public init(netCls: NetCls? = nil) { self.netCls = netCls }
}
