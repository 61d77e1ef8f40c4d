public import CapstanCore
import CapstanLinux
import Foundation

/// The project IDs a `disk/xfs` agent may give containers (Mesos' `--xfs_project_range`, default `[5000-10000]`).
public struct ProjectIDRange: Sendable, Hashable, CustomStringConvertible {
    public let ids: ClosedRange<UInt32>

    /// Mesos' default.
    public static let `default` = ProjectIDRange(checked: 5000...10000)

    private init(checked ids: ClosedRange<UInt32>) { self.ids = ids }

    /// Parses Mesos' interval form, `[5000-10000]` (the brackets may be left out).
    /// - Throws: `invalidArgument` naming what is wrong: not `[LOW-HIGH]`, LOW above HIGH, or project 0 (every file's
    ///   project until one is set, so it cannot hold one container's quota).
    public init(parsing text: String) throws(CapstanError) {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        if body.hasPrefix("[") && body.hasSuffix("]") { body = body.dropFirst().dropLast() }
        let parts = body.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2,
            let low = UInt32(parts[0].trimmingCharacters(in: .whitespaces)),
            let high = UInt32(parts[1].trimmingCharacters(in: .whitespaces))
        else {
            throw CapstanError(.invalidArgument, "--xfs-project-range '\(text)' is not a range of project IDs such as [5000-10000]")
        }
        guard low <= high else {
            throw CapstanError(.invalidArgument, "--xfs-project-range '\(text)' starts above its end")
        }
        guard low > 0 else {
            throw CapstanError(
                .invalidArgument, "--xfs-project-range '\(text)' includes project 0, which every file has until a project is set")
        }
        ids = low...high
    }

    public var description: String { "[\(ids.lowerBound)-\(ids.upperBound)]" }
}

/// Which container holds which project ID: the lowest free ID of the range goes to each new container, and an ID
/// comes back when its container's sandbox is gone. A pure value: ``ProjectIDStore`` checkpoints it.
public struct ProjectIDAllocator: Sendable, Hashable, Codable {
    /// Every assignment held.
    public fileprivate(set) var assignments: [ContainerID: UInt32] = [:]
    public let range: ClosedRange<UInt32>

    public init(range: ProjectIDRange) {
        self.range = range.ids
    }

    /// How many IDs are left (Mesos' `containerizer/mesos/disk/project_ids_free`).
    public var free: Int { range.count - assignments.count }

    /// The ID of `container`: the one it holds, else the lowest free one.
    /// - Throws: `unavailable` when every ID of the range is held, naming the range.
    public mutating func allocate(for container: ContainerID) throws -> UInt32 {
        if let held = assignments[container] { return held }
        let taken = Set(assignments.values)
        guard let id = range.first(where: { !taken.contains($0) }) else {
            throw CapstanError(
                .unavailable,
                "No XFS project ID left for container '\(container)': all \(range.count) of [\(range.lowerBound)-\(range.upperBound)] are held; widen --xfs-project-range")
        }
        assignments[container] = id
        return id
    }

    /// Gives `container`'s ID back; returns it, or `nil` when it held none.
    @discardableResult
    public mutating func release(_ container: ContainerID) -> UInt32? {
        assignments.removeValue(forKey: container)
    }

    /// After a restart: keeps the assignments of `alive` containers that fall in the current range and returns the
    /// others, which are released (containers gone while the agent was down, or IDs outside a range since narrowed).
    public mutating func recover(keeping alive: Set<ContainerID>) -> [ContainerID: UInt32] {
        var released: [ContainerID: UInt32] = [:]
        for (container, id) in assignments where !alive.contains(container) || !range.contains(id) {
            released[container] = id
            assignments.removeValue(forKey: container)
        }
        return released
    }

    private enum CodingKeys: String, CodingKey {
        case assignments, low, high
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let low = try container.decode(UInt32.self, forKey: .low), high = try container.decode(UInt32.self, forKey: .high)
        guard low <= high else { throw DecodingError.dataCorruptedError(forKey: .high, in: container, debugDescription: "low above high") }
        range = low...high
        let pairs = try container.decode([String: UInt32].self, forKey: .assignments)
        assignments = Dictionary(uniqueKeysWithValues: pairs.map { (ContainerID($0.key), $0.value) })
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(range.lowerBound, forKey: .low)
        try container.encode(range.upperBound, forKey: .high)
        try container.encode(Dictionary(uniqueKeysWithValues: assignments.map { ($0.key.value, $0.value) }), forKey: .assignments)
    }
}

/// The allocator's checkpoint in the agent's work dir (`meta/xfs-project-ids.json`), written atomically after each
/// change so that an agent restarted — or a host rebooted — never hands one ID to two containers.
public struct ProjectIDStore: Sendable {
    public let path: String

    public init(workDir: String) {
        path = workDir + "/meta/xfs-project-ids.json"
    }

    /// The checkpointed allocator with the current `range`: assignments are kept (``ProjectIDAllocator/recover(keeping:)``
    /// drops those outside it); a missing checkpoint gives an empty allocator.
    /// - Throws: `failedPrecondition` naming the file when it is there but does not decode (torn, corrupted): read as
    ///   empty, it would hand a running container's project ID to another.
    public func load(range: ProjectIDRange) throws -> ProjectIDAllocator {
        guard let data = FileManager.default.contents(atPath: path) else { return ProjectIDAllocator(range: range) }
        let saved: ProjectIDAllocator
        do { saved = try JSONDecoder().decode(ProjectIDAllocator.self, from: data) } catch {
            throw CapstanError(
                .failedPrecondition,
                "Failed to recover XFS project IDs: '\(path)' is \(data.isEmpty ? "empty" : "not a whole checkpoint of them (\(data.count) bytes; torn or corrupted)"); restore it, or remove it once no container with a disk quota runs, and start the agent again",
                cause: error)
        }
        var allocator = ProjectIDAllocator(range: range)
        for (container, id) in saved.assignments { allocator.assignments[container] = id }
        return allocator
    }

    /// Writes `allocator` atomically.
    public func save(_ allocator: ProjectIDAllocator) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(allocator)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try AtomicFile.write(data, to: path)
    }
}

extension ProjectIDRange {
    /// The project IDs of the range that this host already names for other uses: `ID:PATH` lines of `/etc/projects`
    /// and `NAME:ID` lines of `/etc/projid` (xfs_quota's project files), each as `ID (file: entry)`. Missing files
    /// name none.
    public func definedElsewhere(projects: String = "/etc/projects", projid: String = "/etc/projid") -> [String] {
        var found: [String] = []
        for (file, idField) in [(projects, 0), (projid, 1)] {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") {
                let entry = line.trimmingCharacters(in: .whitespaces)
                guard !entry.hasPrefix("#") else { continue }
                let fields = entry.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                guard fields.count == 2, let id = UInt32(fields[idField].trimmingCharacters(in: .whitespaces)), ids.contains(id) else { continue }
                found.append("\(id) (\(file): '\(entry)')")
            }
        }
        return found
    }
}
