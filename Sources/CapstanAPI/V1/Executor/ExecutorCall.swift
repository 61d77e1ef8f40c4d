import CapstanCore

/// `mesos.v1.executor.Call`: what an executor POSTs to the agent's `/api/v1/executor`.
public struct ExecutorCall: Codable, Sendable, Hashable {
    /// `Call.Type`.
    public enum Kind: String, MesosEnum {
        case unknown = "UNKNOWN"
        case subscribe = "SUBSCRIBE"
        case update = "UPDATE"
        case message = "MESSAGE"
        case heartbeat = "HEARTBEAT"
    }

    /// `Call.Subscribe`: what the executor had not seen acknowledged when it (re)subscribes.
    public struct Subscribe: Codable, Sendable, Hashable {
        @Repeated public var unacknowledgedTasks: [TaskInfo]
        @Repeated public var unacknowledgedUpdates: [Update]

        enum CodingKeys: String, CodingKey {
            case unacknowledgedTasks = "unacknowledged_tasks"
            case unacknowledgedUpdates = "unacknowledged_updates"
        }

        public init(unacknowledgedTasks: [TaskInfo] = [], unacknowledgedUpdates: [Update] = []) {
            self.unacknowledgedTasks = unacknowledgedTasks
            self.unacknowledgedUpdates = unacknowledgedUpdates
        }
    }

    /// `Call.Update`: a task status update.
    public struct Update: Codable, Sendable, Hashable {
        public var status: TaskStatus

        public init(status: TaskStatus) { self.status = status }
    }

    /// `Call.Message`: opaque data for the framework.
    public struct Message: Codable, Sendable, Hashable {
        public var data: Base64Bytes

        public init(data: Base64Bytes) { self.data = data }
    }

    public var executorID: ExecutorID
    public var frameworkID: FrameworkID
    public var type: Kind?
    public var subscribe: Subscribe?
    public var update: Update?
    public var message: Message?

    enum CodingKeys: String, CodingKey {
        case executorID = "executor_id"
        case frameworkID = "framework_id"
        case type, subscribe, update, message
    }

    public init(
        type: Kind?, executorID: ExecutorID, frameworkID: FrameworkID, subscribe: Subscribe? = nil,
        update: Update? = nil, message: Message? = nil
    ) {
        self.executorID = executorID
        self.frameworkID = frameworkID
        self.type = type
        self.subscribe = subscribe
        self.update = update
        self.message = message
    }
}
