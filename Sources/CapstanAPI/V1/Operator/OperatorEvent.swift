import CapstanCore

/// `mesos.v1.master.Event`: what the master streams to an operator SUBSCRIBE call.
public struct OperatorEvent: Codable, Sendable, Hashable {
    /// `Event.FrameworkAdded`.
    public typealias FrameworkAdded = FrameworkChanged
    /// `Event.FrameworkUpdated`.
    public typealias FrameworkUpdated = FrameworkChanged

    /// `Event.Type`.
    public enum Kind: String, MesosEnum {
        case unknown = "UNKNOWN"
        case subscribed = "SUBSCRIBED"
        case taskAdded = "TASK_ADDED"
        case taskUpdated = "TASK_UPDATED"
        case agentAdded = "AGENT_ADDED"
        case agentRemoved = "AGENT_REMOVED"
        case frameworkAdded = "FRAMEWORK_ADDED"
        case frameworkUpdated = "FRAMEWORK_UPDATED"
        case frameworkRemoved = "FRAMEWORK_REMOVED"
        case heartbeat = "HEARTBEAT"
    }

    /// `Event.Subscribed`: the full state at subscription time.
    public struct Subscribed: Codable, Sendable, Hashable {
        public var getState: OperatorResponse.GetState?
        public var heartbeatIntervalSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case getState = "get_state"
            case heartbeatIntervalSeconds = "heartbeat_interval_seconds"
        }

        public init(getState: OperatorResponse.GetState? = nil, heartbeatIntervalSeconds: Double? = nil) {
            self.getState = getState
            self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
        }
    }

    /// `Event.TaskAdded`.
    public struct TaskAdded: Codable, Sendable, Hashable {
        public var task: MesosTask

        public init(task: MesosTask) { self.task = task }
    }

    /// `Event.TaskUpdated`.
    public struct TaskUpdated: Codable, Sendable, Hashable {
        public var frameworkID: FrameworkID
        public var status: TaskStatus
        public var state: TaskState

        enum CodingKeys: String, CodingKey {
            case frameworkID = "framework_id"
            case status, state
        }

        public init(frameworkID: FrameworkID, status: TaskStatus, state: TaskState) {
            self.frameworkID = frameworkID
            self.status = status
            self.state = state
        }
    }

    /// `Event.AgentAdded`.
    public struct AgentAdded: Codable, Sendable, Hashable {
        public var agent: OperatorResponse.GetAgents.Agent

        public init(agent: OperatorResponse.GetAgents.Agent) { self.agent = agent }
    }

    /// `Event.AgentRemoved`.
    public struct AgentRemoved: Codable, Sendable, Hashable {
        public var agentID: AgentID

        enum CodingKeys: String, CodingKey { case agentID = "agent_id" }

        public init(agentID: AgentID) { self.agentID = agentID }
    }

    /// `Event.FrameworkAdded` / `Event.FrameworkUpdated`.
    public struct FrameworkChanged: Codable, Sendable, Hashable {
        public var framework: OperatorResponse.GetFrameworks.Framework

        public init(framework: OperatorResponse.GetFrameworks.Framework) { self.framework = framework }
    }

    /// `Event.FrameworkRemoved`.
    public struct FrameworkRemoved: Codable, Sendable, Hashable {
        public var frameworkInfo: FrameworkInfo

        enum CodingKeys: String, CodingKey { case frameworkInfo = "framework_info" }

        public init(frameworkInfo: FrameworkInfo) { self.frameworkInfo = frameworkInfo }
    }

    public var type: Kind?
    public var subscribed: Subscribed?
    public var taskAdded: TaskAdded?
    public var taskUpdated: TaskUpdated?
    public var agentAdded: AgentAdded?
    public var agentRemoved: AgentRemoved?
    public var frameworkAdded: FrameworkChanged?
    public var frameworkUpdated: FrameworkChanged?
    public var frameworkRemoved: FrameworkRemoved?

    enum CodingKeys: String, CodingKey {
        case type, subscribed
        case taskAdded = "task_added"
        case taskUpdated = "task_updated"
        case agentAdded = "agent_added"
        case agentRemoved = "agent_removed"
        case frameworkAdded = "framework_added"
        case frameworkUpdated = "framework_updated"
        case frameworkRemoved = "framework_removed"
    }

    public init(
        type: Kind?, subscribed: Subscribed? = nil, taskAdded: TaskAdded? = nil, taskUpdated: TaskUpdated? = nil,
        agentAdded: AgentAdded? = nil, agentRemoved: AgentRemoved? = nil, frameworkAdded: FrameworkChanged? = nil,
        frameworkUpdated: FrameworkChanged? = nil, frameworkRemoved: FrameworkRemoved? = nil
    ) {
        self.type = type
        self.subscribed = subscribed
        self.taskAdded = taskAdded
        self.taskUpdated = taskUpdated
        self.agentAdded = agentAdded
        self.agentRemoved = agentRemoved
        self.frameworkAdded = frameworkAdded
        self.frameworkUpdated = frameworkUpdated
        self.frameworkRemoved = frameworkRemoved
    }

    /// A HEARTBEAT event.
    public static let heartbeat = OperatorEvent(type: .heartbeat)
}
