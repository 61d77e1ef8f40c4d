import CapstanCore

/// `mesos.v1.executor.Event`: what the agent streams to a subscribed executor.
public struct ExecutorEvent: Codable, Sendable, Hashable {
    /// `Event.Type`.
    public enum Kind: String, MesosEnum {
        case unknown = "UNKNOWN"
        case subscribed = "SUBSCRIBED"
        case launch = "LAUNCH"
        case launchGroup = "LAUNCH_GROUP"
        case kill = "KILL"
        case acknowledged = "ACKNOWLEDGED"
        case message = "MESSAGE"
        case error = "ERROR"
        case shutdown = "SHUTDOWN"
        case heartbeat = "HEARTBEAT"
    }

    /// `Event.Subscribed`.
    public struct Subscribed: Codable, Sendable, Hashable {
        public var executorInfo: ExecutorInfo
        public var frameworkInfo: FrameworkInfo
        public var agentInfo: AgentInfo
        public var containerID: ContainerID?

        enum CodingKeys: String, CodingKey {
            case executorInfo = "executor_info"
            case frameworkInfo = "framework_info"
            case agentInfo = "agent_info"
            case containerID = "container_id"
        }

        public init(
            executorInfo: ExecutorInfo, frameworkInfo: FrameworkInfo, agentInfo: AgentInfo,
            containerID: ContainerID? = nil
        ) {
            self.executorInfo = executorInfo
            self.frameworkInfo = frameworkInfo
            self.agentInfo = agentInfo
            self.containerID = containerID
        }
    }

    /// `Event.Launch`.
    public struct Launch: Codable, Sendable, Hashable {
        public var task: TaskInfo

        public init(task: TaskInfo) { self.task = task }
    }

    /// `Event.LaunchGroup`.
    public struct LaunchGroup: Codable, Sendable, Hashable {
        public var taskGroup: TaskGroupInfo

        enum CodingKeys: String, CodingKey { case taskGroup = "task_group" }

        public init(taskGroup: TaskGroupInfo) { self.taskGroup = taskGroup }
    }

    /// `Event.Kill`.
    public struct Kill: Codable, Sendable, Hashable {
        public var taskID: TaskID
        public var killPolicy: KillPolicy?

        enum CodingKeys: String, CodingKey {
            case taskID = "task_id"
            case killPolicy = "kill_policy"
        }

        public init(taskID: TaskID, killPolicy: KillPolicy? = nil) {
            self.taskID = taskID
            self.killPolicy = killPolicy
        }
    }

    /// `Event.Acknowledged`: the framework acknowledged the update `uuid`.
    public struct Acknowledged: Codable, Sendable, Hashable {
        public var taskID: TaskID
        public var uuid: Base64Bytes

        enum CodingKeys: String, CodingKey {
            case taskID = "task_id"
            case uuid
        }

        public init(taskID: TaskID, uuid: Base64Bytes) {
            self.taskID = taskID
            self.uuid = uuid
        }
    }

    /// `Event.Message`: opaque data from the framework.
    public struct Message: Codable, Sendable, Hashable {
        public var data: Base64Bytes

        public init(data: Base64Bytes) { self.data = data }
    }

    /// `Event.Error`.
    public struct Error: Codable, Sendable, Hashable {
        public var message: String

        public init(message: String) { self.message = message }
    }

    public var type: Kind?
    public var subscribed: Subscribed?
    public var acknowledged: Acknowledged?
    public var launch: Launch?
    public var launchGroup: LaunchGroup?
    public var kill: Kill?
    public var message: Message?
    public var error: Error?

    enum CodingKeys: String, CodingKey {
        case type, subscribed, acknowledged, launch
        case launchGroup = "launch_group"
        case kill, message, error
    }

    public init(
        type: Kind?, subscribed: Subscribed? = nil, acknowledged: Acknowledged? = nil, launch: Launch? = nil,
        launchGroup: LaunchGroup? = nil, kill: Kill? = nil, message: Message? = nil, error: Error? = nil
    ) {
        self.type = type
        self.subscribed = subscribed
        self.acknowledged = acknowledged
        self.launch = launch
        self.launchGroup = launchGroup
        self.kill = kill
        self.message = message
        self.error = error
    }

    /// A HEARTBEAT event.
    public static let heartbeat = ExecutorEvent(type: .heartbeat)
}
