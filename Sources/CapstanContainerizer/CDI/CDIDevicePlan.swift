import CapstanCore
import Glibc

/// What `stat(2)` says about a device node on the host.
public struct CDIHostDevice: Sendable, Equatable {
    public var type: CDIDeviceType
    public var major: Int64
    public var minor: Int64
    /// The permission bits (`st_mode & 0o7777`).
    public var fileMode: UInt32

    public init(type: CDIDeviceType, major: Int64, minor: Int64, fileMode: UInt32) {
        self.type = type
        self.major = major
        self.minor = minor
        self.fileMode = fileMode
    }

    /// Looks a host path up (following symlinks); tests pass their own function instead.
    public typealias Lookup = @Sendable (String) throws -> CDIHostDevice

    /// `stat(2)` of the path: a character device, block device or FIFO, else an `invalidArgument` error.
    public static let system: Lookup = { path in
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            throw CapstanError(
                code == ENOENT ? .notFound : .unavailable, "CDI host device \(path): stat failed: \(String(cString: strerror(code)))")
        }
        let type: CDIDeviceType
        switch info.st_mode & S_IFMT {
        case S_IFCHR: type = .char
        case S_IFBLK: type = .block
        case S_IFIFO: type = .fifo
        default: throw CapstanError(.invalidArgument, "CDI host device \(path) is not a character device, block device or FIFO")
        }
        let device = UInt64(info.st_rdev)
        // glibc's major()/minor() are macros Swift cannot call; this is their arithmetic.
        let major = ((device >> 8) & 0xFFF) | ((device >> 32) & ~UInt64(0xFFF))
        let minor = (device & 0xFF) | ((device >> 12) & ~UInt64(0xFF))
        return CDIHostDevice(type: type, major: Int64(major), minor: Int64(minor), fileMode: UInt32(info.st_mode) & 0o7777)
    }
}

/// A device node the launcher creates in the container's `/dev` (or wherever `path` says).
public struct CDIPlannedDeviceNode: Sendable, Equatable {
    /// Absolute path in the container.
    public var path: String
    /// The node on the host it stands for.
    public var hostPath: String
    public var type: CDIDeviceType
    public var major: Int64
    public var minor: Int64
    /// Permission bits: the spec's, else the host node's, else 0o666.
    public var fileMode: UInt32
    /// Owner in the container; nil: the container's user (as the CDI reference library does for a nonzero user),
    /// else root.
    public var uid: UInt32?
    public var gid: UInt32?

    public init(
        path: String, hostPath: String, type: CDIDeviceType, major: Int64, minor: Int64, fileMode: UInt32, uid: UInt32? = nil,
        gid: UInt32? = nil
    ) {
        self.path = path
        self.hostPath = hostPath
        self.type = type
        self.major = major
        self.minor = minor
        self.fileMode = fileMode
        self.uid = uid
        self.gid = gid
    }
}

/// One cgroup device rule: `c 195:0 rwm`.
public struct CDIDeviceRule: Sendable, Hashable, CustomStringConvertible {
    /// `c` or `b`.
    public var type: String
    public var major: Int64
    public var minor: Int64
    /// Some of `r`, `w`, `m`, in that order; never empty.
    public var access: String

    public init(type: String, major: Int64, minor: Int64, access: String) {
        self.type = type
        self.major = major
        self.minor = minor
        self.access = access
    }

    /// The line written to cgroup v1 `devices.allow`.
    public var description: String { "\(type) \(major):\(minor) \(access)" }
}

/// A mount the launcher makes in the container.
public struct CDIPlannedMount: Sendable, Equatable {
    /// The host path of a bind mount, else the source as the spec writes it.
    public var source: String
    /// Absolute path in the container.
    public var destination: String
    /// The filesystem type (`bind` for a bind mount).
    public var type: String
    /// Options as the spec lists them (`ro`, `nosuid`, `nodev`, `bind`…).
    public var options: [String]
    public var isBind: Bool

    public init(source: String, destination: String, type: String, options: [String], isBind: Bool) {
        self.source = source
        self.destination = destination
        self.type = type
        self.options = options
        self.isBind = isBind
    }

    /// Whether the options ask for a read-only mount.
    public var isReadOnly: Bool { options.contains("ro") }
}

/// What a launcher does for a container's CDI devices: the pure translation of merged ``CDIContainerEdits``.
///
/// Device nodes whose spec gives no `type` and `major` are looked up on the host (through the injected
/// ``CDIHostDevice/Lookup``); a node given with type and major uses its numbers as written (minor 0 when absent)
/// and takes only its mode from the host when the host has it, as the reference library does. A FIFO needs no
/// numbers and gets no cgroup rule. `intelRdt` and `netDevices` are refused (`unsupported`): Capstan does not
/// apply them, and a device that needs them would not work.
public struct CDIDevicePlan: Sendable, Equatable {
    public var deviceNodes: [CDIPlannedDeviceNode]
    /// One rule per distinct device (access merged), in node order; devices whose permissions are `none` get none.
    public var cgroupRules: [CDIDeviceRule]
    public var mounts: [CDIPlannedMount]
    /// `KEY=value` entries to append to the container's environment.
    public var env: [String]
    public var additionalGids: [UInt32]
    /// Hooks by stage, each stage's in spec order.
    public var hooks: [CDIHookStage: [CDIHook]]

    /// The `devices.allow` lines of ``cgroupRules``.
    public var devicesAllowLines: [String] { cgroupRules.map(\.description) }

    /// Plans `edits`, looking up host device nodes with `lookup`.
    public init(_ edits: CDIContainerEdits, lookup: CDIHostDevice.Lookup = CDIHostDevice.system) throws {
        if edits.intelRdt != nil {
            throw CapstanError(.unsupported, "the requested CDI devices set intelRdt, which Capstan does not apply")
        }
        if let net = edits.netDevices.first {
            throw CapstanError(
                .unsupported, "the requested CDI devices move network interface \(net.hostInterfaceName), which Capstan does not apply")
        }
        var nodes: [CDIPlannedDeviceNode] = []
        var rules: [CDIDeviceRule] = []
        for node in edits.deviceNodes {
            let planned = try Self.plan(node, lookup: lookup)
            nodes.append(planned)
            let access = node.permissions ?? "rwm"
            guard let letter = planned.type.cgroupLetter, !access.isEmpty else { continue }
            if let index = rules.firstIndex(where: { $0.type == letter && $0.major == planned.major && $0.minor == planned.minor }) {
                let union = rules[index].access + access
                rules[index].access = "rwm".filter { union.contains($0) }
            } else {
                rules.append(CDIDeviceRule(type: letter, major: planned.major, minor: planned.minor, access: access))
            }
        }
        deviceNodes = nodes
        cgroupRules = rules
        mounts = edits.mounts.map {
            CDIPlannedMount(
                source: $0.hostPath, destination: $0.containerPath, type: $0.isBind ? "bind" : ($0.type ?? "bind"), options: $0.options,
                isBind: $0.isBind)
        }
        env = edits.env
        additionalGids = edits.additionalGids
        var hooks: [CDIHookStage: [CDIHook]] = [:]
        for hook in edits.hooks {
            var hook = hook
            if hook.args.isEmpty { hook.args = [hook.path] }
            hooks[hook.stage, default: []].append(hook)
        }
        self.hooks = hooks
    }

    private static func plan(_ node: CDIDeviceNode, lookup: CDIHostDevice.Lookup) throws -> CDIPlannedDeviceNode {
        let hostPath = node.hostPath ?? node.path
        let minimal = node.type.map { $0 == .fifo || node.major != nil } ?? false
        let host: CDIHostDevice?
        do { host = try lookup(hostPath) } catch {
            guard minimal else {
                throw CapstanError(
                    .failedPrecondition,
                    "CDI device node \(node.path): its spec gives no type and major number, and the host node cannot be read",
                    cause: error)
            }
            host = nil
        }
        var planned = CDIPlannedDeviceNode(
            path: node.path, hostPath: hostPath, type: node.type ?? host?.type ?? .char, major: node.major ?? 0, minor: node.minor ?? 0,
            fileMode: node.fileMode ?? host?.fileMode ?? 0o666, uid: node.uid, gid: node.gid)
        guard !minimal, let host else { return planned }
        if let type = node.type, type.cgroupLetter != host.type.cgroupLetter || (type == .fifo) != (host.type == .fifo) {
            throw CapstanError(
                .failedPrecondition, "CDI device node \(node.path): the spec says type \(type.rawValue) but \(hostPath) is \(host.type.rawValue)")
        }
        if node.major == nil {
            planned.major = host.major
            planned.minor = host.minor
        }
        return planned
    }
}
