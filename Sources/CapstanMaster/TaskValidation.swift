import Logging
import CapstanAPI
import CapstanCore

/// The checks a LAUNCH passes before a task reaches an agent; each failure is one sentence for TASK_ERROR.
enum TaskValidation {
    static func problem(
        _ task: TaskInfo, frameworkID: FrameworkID, agentID: AgentID, taskResources: Resources,
        knownTaskIDs: [TaskID: TaskRecord], executors: [ExecutorID: ExecutorInfo]
    ) -> String? {
        let id = task.taskID.value
        if let problem = IdentifierRule.problem(with: id) { return "Task ID '\(IdentifierRule.printable(id))' \(problem)" }
        if let executorID = task.executor?.executorID.value, let problem = IdentifierRule.problem(with: executorID) {
            return "Executor ID '\(IdentifierRule.printable(executorID))' of task \(id) \(problem)"
        }
        if knownTaskIDs[task.taskID] != nil { return "Task has duplicate ID: \(id)" }
        if !task.agentID.value.isEmpty, task.agentID != agentID {
            let taskAgent = task.agentID
            return "Task uses agent ID \(taskAgent) which does not match the offer's agent ID \(agentID)"
        }
        if (task.command == nil) == (task.executor == nil) {
            return "Task \(id) should have at least one (but not both) of CommandInfo or ExecutorInfo present"
        }
        if let command = task.command, command.shell ?? true, (command.value ?? "").isEmpty {
            return "Task \(id) has a shell command with an empty 'command.value'"
        }
        if let command = task.command, !(command.shell ?? true), (command.value ?? "").isEmpty {
            return "Task \(id) has a non-shell command without 'command.value' (the executable)"
        }
        if taskResources.isEmpty { return "Task \(id) uses no resources" }
        if let grace = task.killPolicy?.gracePeriod?.nanoseconds, grace < 0 {
            return "Task \(id) has a negative 'kill_policy.grace_period'"
        }
        if let executor = task.executor {
            if let owner = executor.frameworkID, owner != frameworkID {
                return "ExecutorInfo has an invalid FrameworkID (actual: \(owner) vs expected: \(frameworkID))"
            }
            if executor.command == nil {
                return "Executor \(executor.executorID) of task \(id) has no 'command'"
            }
            if let known = executors[executor.executorID], known.command != executor.command {
                return "ExecutorInfo for executor \(executor.executorID) is not compatible with the running one"
            }
        }
        return nil
    }
}
