import Logging
import CapstanAPI
import CapstanCore
import CapstanHTTP

/// A task on this agent.
struct AgentTaskRecord: Sendable {
    var info: TaskInfo
    var frameworkID: FrameworkID
    var executorID: ExecutorID
    var state: TaskState
    var statuses: [TaskStatus] = []

    /// The wire `Task` as re-registration and the operator API report it.
    func wire(agentID: AgentID?, directory: String? = nil) -> MesosTask {
        MesosTask(
            name: info.name, taskID: info.taskID, frameworkID: frameworkID, executorID: executorID,
            agentID: agentID ?? info.agentID ?? AgentID(""), state: state, resources: info.resources, statuses: statuses,
            labels: info.labels, discovery: info.discovery, container: info.container, user: info.command?.user,
            directory: directory)
    }
}

/// An executor on this agent: the built-in command executor of one task, or a framework's custom executor.
struct ExecutorRecord: Sendable {
    var info: ExecutorInfo
    var frameworkID: FrameworkID
    var containerID: ContainerID
    var sandbox: String
    /// The built-in command executor (one task, run directly by the agent).
    var isCommandExecutor: Bool
    /// Runs from an image through the Linux launcher (the image runtime's containerizer).
    var usesImage = false
    /// Where the executor's container is in its life, with what belongs to that state.
    var state: ExecutorState
    /// Tasks handed to the executor (or run by the command executor).
    var tasks: [TaskID: AgentTaskRecord] = [:]
    /// Tasks waiting for a custom executor to subscribe.
    var queued: [TaskID: AgentTaskRecord] = [:]
    /// Tasks that ended, newest last.
    var completed: [AgentTaskRecord] = []
    /// The CNI networks its container joined, with its addresses (in its tasks' statuses from TASK_RUNNING on).
    var networkInfos: [NetworkInfo] = []
}

/// A framework with executors on this agent.
struct AgentFrameworkRecord: Sendable {
    var info: FrameworkInfo
    var executors: [ExecutorID: ExecutorRecord] = [:]
    var completedExecutors: [ExecutorRecord] = []

    var id: FrameworkID { info.id ?? FrameworkID("") }
}
