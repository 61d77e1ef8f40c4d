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

    static func read(from store: CheckpointStore) async throws -> RecoveredCheckpoints {
        try await Blocking.run { try scan(store) }
    }

    /// Reads every checkpoint under `meta/frameworks` and `meta/agent.json`. A missing file is absent; a file that is
    /// there but does not decode (torn, truncated, corrupted) is an error naming its path: read as absent, its task
    /// would be forgotten while it runs, or its agent ID replaced.
    static func scan(_ store: CheckpointStore) throws -> RecoveredCheckpoints {
        var result = RecoveredCheckpoints()
        result.agentID = try store.read(AgentCheckpoint.self, from: "agent.json")?.agentID
        result.resources = try store.read(CheckpointResourcesMessage.self, from: "resources.json")?.resources ?? []
        for frameworkDir in store.list("frameworks") {
            let frameworkID = FrameworkID(frameworkDir)
            let base = "frameworks/\(frameworkDir)"
            if let info = try store.read(FrameworkInfo.self, from: base + "/framework.json") {
                result.frameworks[frameworkID] = info
            }
            for name in store.list(base + "/executors") where name.hasSuffix(".json") {
                if let info = try store.read(ExecutorInfo.self, from: base + "/executors/" + name) {
                    result.executors[frameworkID, default: [:]][ExecutorID(String(name.dropLast(5)))] = info
                }
            }
            for taskDir in store.list(base + "/tasks") {
                let taskBase = base + "/tasks/\(taskDir)"
                if let stream = try store.read(UpdateStreamCheckpoint.self, from: taskBase + "/updates.json") {
                    result.streams.append((frameworkID, TaskID(taskDir), stream))
                }
                guard let task = try store.read(TaskCheckpoint.self, from: taskBase + "/task.json"), !task.state.isTerminal
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
