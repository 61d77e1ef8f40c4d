import CapstanAPI
import CapstanCore
import CapstanLinux
import Foundation

/// What an agent's checkpoints hold when it starts: read in one pass on the blocking pool, so that recovery's file
/// reads never hold the agent's actor or a cooperative thread.
struct RecoveredCheckpoints: Sendable {
    var agentID: AgentID?
    /// Reservations and persistent volumes (`meta/resources.json`).
    var resources: [MesosResource] = []
    /// Unacknowledged status updates, per task.
    var streams: [(FrameworkID, TaskID, UpdateStreamCheckpoint)] = []
    /// Tasks not in a terminal state, each with path-safe IDs.
    var unfinished: [TaskCheckpoint] = []
    var frameworks: [FrameworkID: FrameworkInfo] = [:]
    /// Custom executors' ExecutorInfo, by framework and executor.
    var executors: [FrameworkID: [ExecutorID: ExecutorInfo]] = [:]
    /// Task checkpoints ignored because an ID in them is not path-safe, by their directory.
    var ignored: [String] = []

    static func read(from store: CheckpointStore) async -> RecoveredCheckpoints {
        (try? await Blocking.run { scan(store) }) ?? RecoveredCheckpoints()
    }

    /// Reads every checkpoint under `meta/frameworks` and `meta/agent.json`; an unreadable file counts as absent.
    static func scan(_ store: CheckpointStore) -> RecoveredCheckpoints {
        var result = RecoveredCheckpoints()
        result.agentID = (try? store.read(AgentCheckpoint.self, from: "agent.json"))??.agentID
        result.resources = (try? store.read(CheckpointResourcesMessage.self, from: "resources.json"))??.resources ?? []
        for frameworkDir in store.list("frameworks") {
            let frameworkID = FrameworkID(frameworkDir)
            let base = "frameworks/\(frameworkDir)"
            if let info = (try? store.read(FrameworkInfo.self, from: base + "/framework.json")) ?? nil {
                result.frameworks[frameworkID] = info
            }
            for name in store.list(base + "/executors") where name.hasSuffix(".json") {
                if let info = (try? store.read(ExecutorInfo.self, from: base + "/executors/" + name)) ?? nil {
                    result.executors[frameworkID, default: [:]][ExecutorID(String(name.dropLast(5)))] = info
                }
            }
            for taskDir in store.list(base + "/tasks") {
                let taskBase = base + "/tasks/\(taskDir)"
                if let stream = (try? store.read(UpdateStreamCheckpoint.self, from: taskBase + "/updates.json")) ?? nil {
                    result.streams.append((frameworkID, TaskID(taskDir), stream))
                }
                guard let task = (try? store.read(TaskCheckpoint.self, from: taskBase + "/task.json")) ?? nil, !task.state.isTerminal
                else { continue }
                guard task.frameworkID.isPathSafe, task.executorID.isPathSafe, task.task.taskID.isPathSafe, task.containerID?.isPathSafe ?? true
                else {
                    result.ignored.append(taskBase)
                    continue
                }
                result.unfinished.append(task)
            }
        }
        return result
    }
}
