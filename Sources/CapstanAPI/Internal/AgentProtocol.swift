import CapstanCore
import Foundation

// The master/agent protocol. Mesos uses libprocess protobuf messages between master and agent; Capstan uses
// JSON over HTTP instead, reusing the v1 message types. These endpoints are internal: clients use the v1 API.

/// Paths of the internal master/agent endpoints.
public enum InternalPath {
    /// On the master: an agent registers or re-registers.
    public static let register = "/master/internal/register"
    /// On the master: an agent's periodic heartbeat.
    public static let heartbeat = "/master/internal/heartbeat"
    /// On the master: a status update from an agent (retried until acknowledged).
    public static let statusUpdate = "/master/internal/status-update"
    /// On the master: an executor's MESSAGE to its framework, relayed by the agent.
    public static let executorMessage = "/master/internal/executor-message"
    /// On the agent: run a task (optionally under a custom executor).
    public static let runTask = "/agent/internal/run-task"
    /// On the agent: kill a task.
    public static let killTask = "/agent/internal/kill-task"
    /// On the agent: a framework acknowledged a status update.
    public static let acknowledge = "/agent/internal/acknowledge"
    /// On the agent: a framework was removed; kill its tasks and executors.
    public static let shutdownFramework = "/agent/internal/shutdown-framework"
    /// On the agent: shut an executor down.
    public static let shutdownExecutor = "/agent/internal/shutdown-executor"
    /// On the agent: the reservations and persistent volumes it holds now (after RESERVE, UNRESERVE, CREATE, DESTROY).
    public static let checkpointResources = "/agent/internal/checkpoint-resources"
    /// On the agent: a framework's MESSAGE to one of its executors.
    public static let frameworkMessage = "/agent/internal/framework-message"
}

/// Sent by an agent when it (re-)registers. A known `agentID` means re-registration: the agent reports what it runs.
public struct RegisterAgentMessage: Codable, Sendable {
    public var agentID: AgentID?
    public var agentInfo: AgentInfo
    /// Where the agent's HTTP API listens, for the master to call back.
    public var endpoint: String
    public var frameworks: [FrameworkInfo]
    public var tasks: [MesosTask]
    public var executors: [ExecutorInfo]
    public var version: String

    enum CodingKeys: String, CodingKey {
        case agentID = "agent_id", agentInfo = "agent_info", endpoint, frameworks, tasks, executors, version
    }

    public init(
        agentID: AgentID?, agentInfo: AgentInfo, endpoint: String, frameworks: [FrameworkInfo] = [], tasks: [MesosTask] = [],
        executors: [ExecutorInfo] = [], version: String
    ) {
        self.agentID = agentID
        self.agentInfo = agentInfo
        self.endpoint = endpoint
        self.frameworks = frameworks
        self.tasks = tasks
        self.executors = executors
        self.version = version
    }
}

/// The master's answer to a registration.
public struct AgentRegisteredMessage: Codable, Sendable {
    public var agentID: AgentID
    public var masterID: MasterID
    public var heartbeatIntervalSeconds: Double

    enum CodingKeys: String, CodingKey {
        case agentID = "agent_id", masterID = "master_id", heartbeatIntervalSeconds = "heartbeat_interval_seconds"
    }

    public init(agentID: AgentID, masterID: MasterID, heartbeatIntervalSeconds: Double) {
        self.agentID = agentID
        self.masterID = masterID
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
    }
}

/// An agent's heartbeat. The master answers 200, or 404 when it does not know the agent (it must re-register).
public struct AgentHeartbeatMessage: Codable, Sendable {
    public var agentID: AgentID
    public var masterID: MasterID?

    enum CodingKeys: String, CodingKey { case agentID = "agent_id", masterID = "master_id" }

    public init(agentID: AgentID, masterID: MasterID?) {
        self.agentID = agentID
        self.masterID = masterID
    }
}

/// A status update relayed from the agent's status update manager to the master.
public struct StatusUpdateMessage: Codable, Sendable {
    public var frameworkID: FrameworkID
    public var status: TaskStatus
    /// The latest state of the task on the agent (it may be ahead of `status` while older updates await acks).
    public var latestState: TaskState?

    enum CodingKeys: String, CodingKey { case frameworkID = "framework_id", status, latestState = "latest_state" }

    public init(frameworkID: FrameworkID, status: TaskStatus, latestState: TaskState? = nil) {
        self.frameworkID = frameworkID
        self.status = status
        self.latestState = latestState
    }
}

/// The master asks an agent to run a task.
public struct RunTaskMessage: Codable, Sendable {
    public var framework: FrameworkInfo
    public var task: TaskInfo

    enum CodingKeys: String, CodingKey { case framework, task }

    public init(framework: FrameworkInfo, task: TaskInfo) {
        self.framework = framework
        self.task = task
    }
}

/// The master asks an agent to kill a task.
public struct KillTaskMessage: Codable, Sendable {
    public var frameworkID: FrameworkID
    public var taskID: TaskID
    public var killPolicy: KillPolicy?

    enum CodingKeys: String, CodingKey { case frameworkID = "framework_id", taskID = "task_id", killPolicy = "kill_policy" }

    public init(frameworkID: FrameworkID, taskID: TaskID, killPolicy: KillPolicy? = nil) {
        self.frameworkID = frameworkID
        self.taskID = taskID
        self.killPolicy = killPolicy
    }
}

/// A framework acknowledged the status update `uuid` of a task.
public struct AcknowledgeMessage: Codable, Sendable {
    public var frameworkID: FrameworkID
    public var taskID: TaskID
    public var uuid: Base64Bytes

    enum CodingKeys: String, CodingKey { case frameworkID = "framework_id", taskID = "task_id", uuid }

    public init(frameworkID: FrameworkID, taskID: TaskID, uuid: Base64Bytes) {
        self.frameworkID = frameworkID
        self.taskID = taskID
        self.uuid = uuid
    }
}

/// A framework was removed, or asked to shut one executor down (`executorID` set).
public struct ShutdownMessage: Codable, Sendable {
    public var frameworkID: FrameworkID
    public var executorID: ExecutorID?

    enum CodingKeys: String, CodingKey { case frameworkID = "framework_id", executorID = "executor_id" }

    public init(frameworkID: FrameworkID, executorID: ExecutorID? = nil) {
        self.frameworkID = frameworkID
        self.executorID = executorID
    }
}

/// Opaque data between a framework and one of its executors, relayed in either direction.
public struct FrameworkExecutorMessage: Codable, Sendable {
    public var frameworkID: FrameworkID
    public var executorID: ExecutorID
    public var agentID: AgentID
    public var data: Base64Bytes

    enum CodingKeys: String, CodingKey {
        case frameworkID = "framework_id", executorID = "executor_id", agentID = "agent_id", data
    }

    public init(frameworkID: FrameworkID, executorID: ExecutorID, agentID: AgentID, data: Base64Bytes) {
        self.frameworkID = frameworkID
        self.executorID = executorID
        self.agentID = agentID
        self.data = data
    }
}

/// The master tells an agent every reservation and persistent volume it holds now (Mesos' CheckpointResourcesMessage):
/// the agent checkpoints them, makes the directories of new volumes and deletes the data of destroyed ones.
public struct CheckpointResourcesMessage: Codable, Sendable {
    @Repeated public var resources: [MesosResource]

    enum CodingKeys: String, CodingKey { case resources }

    public init(resources: [MesosResource]) {
        self.resources = resources
    }
}
