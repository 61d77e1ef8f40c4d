import Logging
import CapstanLinux
import CapstanAPI
import CapstanCore
import Foundation

/// Crash-safe JSON files under the agent's `meta/` directory: each write goes to a temporary file that is
/// fsynced and renamed over the old one, then the directory is fsynced, so a crash leaves the old or the new
/// file, never a torn one.
///
/// Layout:
/// ```
/// meta/agent.json                                   AgentCheckpoint (the agent ID)
/// meta/frameworks/<fid>/framework.json              FrameworkInfo
/// meta/frameworks/<fid>/executors/<eid>.json        ExecutorCheckpoint
/// meta/frameworks/<fid>/tasks/<tid>/task.json       TaskCheckpoint (TaskInfo, state, container, pid)
/// meta/frameworks/<fid>/tasks/<tid>/updates.json    UpdateStreamCheckpoint (unacknowledged updates)
/// ```
public struct CheckpointStore: Sendable {
    public let root: String

    public init(workDir: String) {
        self.root = workDir + "/meta"
    }

    /// Writes `value` as JSON to `relativePath` atomically and durably.
    public func write(_ value: some Encodable, to relativePath: String) throws {
        let path = try absolute(relativePath)
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try AtomicFile.write(try MesosJSON.encode(value), to: path, mode: 0o600)
    }

    /// Reads a checkpoint; nil when it does not exist.
    public func read<T: Decodable>(_ type: T.Type, from relativePath: String) throws -> T? {
        let path = try absolute(relativePath)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try MesosJSON.decode(T.self, from: data)
        } catch {
            let what = data.isEmpty ? "empty" : "not a whole \(T.self) (\(data.count) bytes; torn or corrupted)"
            throw CapstanError(
                .failedPrecondition,
                "Checkpoint \(path) is \(what); the agent will not guess what it held. Move it aside (its task is then reported lost) or restore it, and start the agent again",
                cause: error)
        }
    }

    /// Removes a checkpoint file or directory (idempotent), then fsyncs its directory so that the removal survives a
    /// power cut too (an acknowledged update stream must not come back). A path that could leave `meta/` is never
    /// removed.
    public func remove(_ relativePath: String) {
        guard let path = try? absolute(relativePath) else { return }
        guard (try? FileManager.default.removeItem(atPath: path)) != nil else { return }
        AtomicFile.syncDirectory(of: path)
    }

    /// Names of the entries of a checkpoint directory (empty when missing); only names that are valid IDs.
    public func list(_ relativePath: String) -> [String] {
        guard let path = try? absolute(relativePath) else { return [] }
        return ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { IdentifierRule.problem(with: $0) == nil }.sorted()
    }

    /// `root/relativePath`, each component checked with ``IdentifierRule`` (file names such as `task.json`
    /// obey it too), so that no ID can turn a checkpoint path into one outside `meta/`.
    func absolute(_ relativePath: String) throws(CapstanError) -> String {
        let components = relativePath.split(separator: "/", omittingEmptySubsequences: false).map { SafePath.Component.id(String($0)) }
        return try SafePath(root: root, components).path
    }

    static func frameworkPath(_ frameworkID: FrameworkID) -> String { "frameworks/\(frameworkID.value)" }
    static func taskPath(_ frameworkID: FrameworkID, _ taskID: TaskID) -> String {
        "frameworks/\(frameworkID.value)/tasks/\(taskID.value)"
    }
}

/// A checkpoint I/O failure, naming the call and the file.
enum CheckpointError: Error, CustomStringConvertible {
    case io(String, String, Int32)

    var description: String {
        switch self {
        case .io(let call, let path, let code): "Checkpoint \(call) of \(path) failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}

/// `meta/agent.json`.
public struct AgentCheckpoint: Codable, Sendable {
    public var agentID: AgentID
    enum CodingKeys: String, CodingKey { case agentID = "agent_id" }
}

/// `meta/frameworks/<fid>/tasks/<tid>/task.json`.
public struct TaskCheckpoint: Codable, Sendable {
    public var task: TaskInfo
    public var frameworkID: FrameworkID
    public var executorID: ExecutorID
    public var containerID: ContainerID?
    public var state: TaskState
    public var pid: Int32?
    enum CodingKeys: String, CodingKey {
        case task, frameworkID = "framework_id", executorID = "executor_id", containerID = "container_id", state, pid
    }
}

/// `meta/frameworks/<fid>/tasks/<tid>/updates.json`: updates not yet acknowledged, oldest first.
public struct UpdateStreamCheckpoint: Codable, Sendable {
    public var pending: [TaskStatus]
    public var terminalAcknowledged: Bool
    enum CodingKeys: String, CodingKey { case pending, terminalAcknowledged = "terminal_acknowledged" }
}
