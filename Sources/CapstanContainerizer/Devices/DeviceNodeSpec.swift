public import CapstanCore

/// A device node a container is given: made in its own `/dev` (image containers), and allowed by its device policy
/// (every container). The `gpu/nvidia` isolator gives its GPUs' nodes; CDI devices give theirs.
public struct DeviceNodeSpec: Sendable, Hashable, Codable {
    /// Absolute path inside the container.
    public var path: String
    public var kind: DeviceKind
    public var major: Int
    public var minor: Int
    /// What the device policy allows on it; empty: the node is made but gets no rule.
    public var access: DeviceAccess
    /// Permission bits of the node made in the container; nil: 0o666.
    public var fileMode: UInt32?
    /// Owner of the node made in the container; nil: root.
    public var uid: UInt32?
    public var gid: UInt32?

    /// Creates a node description.
    public init(
        path: String, kind: DeviceKind = .char, major: Int, minor: Int, access: DeviceAccess = .all, fileMode: UInt32? = nil,
        uid: UInt32? = nil, gid: UInt32? = nil
    ) {
        self.path = path
        self.kind = kind
        self.major = major
        self.minor = minor
        self.access = access
        self.fileMode = fileMode
        self.uid = uid
        self.gid = gid
    }

    /// `existing` plus `more` (an isolator's), once per path: a node given twice the same way (a GPU asked for both
    /// as `gpus` and as its NVIDIA CDI device) is kept once, with the access of both.
    /// - Throws: `failedPrecondition` when two nodes at one path are different devices, naming the path, both
    ///   devices and `isolator`.
    public static func merge(_ existing: [DeviceNodeSpec], _ more: [DeviceNodeSpec], from isolator: String) throws -> [DeviceNodeSpec] {
        var merged = existing
        for node in more {
            guard let index = merged.firstIndex(where: { $0.path == node.path }) else {
                merged.append(node)
                continue
            }
            let held = merged[index]
            guard held.kind == node.kind, held.major == node.major, held.minor == node.minor else {
                throw CapstanError(
                    .failedPrecondition,
                    "device node \(node.path) is asked for twice as different devices: \(held.kind.rawValue) \(held.major):\(held.minor) and, from \(isolator), \(node.kind.rawValue) \(node.major):\(node.minor)")
            }
            merged[index].access.formUnion(node.access)
        }
        return merged
    }

    /// The rule the container's device policy gets for this node.
    public var rule: DeviceRule { DeviceRule(kind, Int64(major), Int64(minor), access) }

    private enum CodingKeys: String, CodingKey { case path, kind, major, minor, access, fileMode, uid, gid }

    /// Decodes a node; checkpoints written before `kind` and `access` existed held character nodes with full access.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        path = try container.decode(String.self, forKey: .path)
        kind = try container.decodeIfPresent(DeviceKind.self, forKey: .kind) ?? .char
        major = try container.decode(Int.self, forKey: .major)
        minor = try container.decode(Int.self, forKey: .minor)
        access = try container.decodeIfPresent(DeviceAccess.self, forKey: .access) ?? .all
        fileMode = try container.decodeIfPresent(UInt32.self, forKey: .fileMode)
        uid = try container.decodeIfPresent(UInt32.self, forKey: .uid)
        gid = try container.decodeIfPresent(UInt32.self, forKey: .gid)
    }
}
