/// `TaskState`: the v1 task states.
public enum TaskState: String, MesosEnum {
    case taskStaging = "TASK_STAGING"
    case taskStarting = "TASK_STARTING"
    case taskRunning = "TASK_RUNNING"
    case taskKilling = "TASK_KILLING"
    case taskFinished = "TASK_FINISHED"
    case taskFailed = "TASK_FAILED"
    case taskKilled = "TASK_KILLED"
    case taskError = "TASK_ERROR"
    case taskLost = "TASK_LOST"
    case taskDropped = "TASK_DROPPED"
    case taskUnreachable = "TASK_UNREACHABLE"
    case taskGone = "TASK_GONE"
    case taskGoneByOperator = "TASK_GONE_BY_OPERATOR"
    case taskUnknown = "TASK_UNKNOWN"

    /// Whether the task is over (Mesos' `isTerminalState`); UNREACHABLE and UNKNOWN are not terminal.
    public var isTerminal: Bool {
        switch self {
        case .taskFinished, .taskFailed, .taskKilled, .taskError, .taskLost, .taskDropped, .taskGone,
            .taskGoneByOperator:
            return true
        case .taskStaging, .taskStarting, .taskRunning, .taskKilling, .taskUnreachable, .taskUnknown:
            return false
        }
    }
}
