import CapstanAPI
import Testing

@Suite("TaskState") struct TaskStateTests {
    @Test func hasEveryV1State() {
        #expect(
            TaskState.allCases.map(\.rawValue) == [
                "TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_FINISHED", "TASK_FAILED",
                "TASK_KILLED", "TASK_ERROR", "TASK_LOST", "TASK_DROPPED", "TASK_UNREACHABLE", "TASK_GONE",
                "TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN",
            ])
    }

    @Test func terminalStatesMatchMesos() {
        let terminal = TaskState.allCases.filter(\.isTerminal)
        #expect(
            terminal == [
                .taskFinished, .taskFailed, .taskKilled, .taskError, .taskLost, .taskDropped, .taskGone,
                .taskGoneByOperator,
            ])
    }

    @Test func reasonsIncludeTheOnesCapstanReports() {
        let names = Set(TaskStatus.Reason.allCases.map(\.rawValue))
        for name in [
            "REASON_COMMAND_EXECUTOR_FAILED", "REASON_CONTAINER_LIMITATION_MEMORY", "REASON_RECONCILIATION",
            "REASON_TASK_INVALID", "REASON_TASK_UNKNOWN", "REASON_AGENT_REMOVED", "REASON_AGENT_DISCONNECTED",
            "REASON_FRAMEWORK_REMOVED", "REASON_EXECUTOR_TERMINATED", "REASON_TASK_KILLED_DURING_LAUNCH",
            "REASON_INVALID_OFFERS",
        ] {
            #expect(names.contains(name), "\(name)")
        }
        #expect(names.count == 35)
    }
}
