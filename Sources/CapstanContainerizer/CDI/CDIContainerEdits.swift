/// The `containerEdits` of a spec or a device, or several of them merged by ``CDIRegistry/resolve(_:)``. Paths are
/// absolute and normalized (no `.`, `..` or repeated `/`), environment entries are `KEY=value`.
public struct CDIContainerEdits: Sendable, Equatable {
    /// `env`: `KEY=value` entries, appended to the container's environment.
    public var env: [String]
    public var deviceNodes: [CDIDeviceNode]
    public var mounts: [CDIMount]
    public var hooks: [CDIHook]
    /// `additionalGids` (0.7.0+): groups added to the container process; 0 is ignored, as the spec says.
    public var additionalGids: [UInt32]
    /// `intelRdt` (0.7.0+): parsed so the version rules hold; Capstan does not apply it (``CDIDevicePlan`` refuses it).
    public var intelRdt: CDIIntelRdt?
    /// `netDevices` (1.1.0+): parsed so the version rules hold; Capstan does not apply them (``CDIDevicePlan`` refuses
    /// them).
    public var netDevices: [CDINetDevice]

    public init(
        env: [String] = [], deviceNodes: [CDIDeviceNode] = [], mounts: [CDIMount] = [], hooks: [CDIHook] = [],
        additionalGids: [UInt32] = [], intelRdt: CDIIntelRdt? = nil, netDevices: [CDINetDevice] = []
    ) {
        self.env = env
        self.deviceNodes = deviceNodes
        self.mounts = mounts
        self.hooks = hooks
        self.additionalGids = additionalGids
        self.intelRdt = intelRdt
        self.netDevices = netDevices
    }

    /// Nothing to do.
    public var isEmpty: Bool { self == CDIContainerEdits() }
}

/// The type of a device node: `c` (character), `u` (unbuffered character, made as a character device), `b` (block)
/// or `p` (FIFO).
public enum CDIDeviceType: String, Sendable, Hashable {
    case char = "c"
    case unbufferedChar = "u"
    case block = "b"
    case fifo = "p"

    /// The letter of a cgroup device rule (`c` or `b`); nil for a FIFO, which no rule covers.
    public var cgroupLetter: String? {
        switch self {
        case .char, .unbufferedChar: return "c"
        case .block: return "b"
        case .fifo: return nil
        }
    }
}

/// One entry of `deviceNodes`.
public struct CDIDeviceNode: Sendable, Equatable {
    /// `path`: where the node appears in the container.
    public var path: String
    /// `hostPath` (0.5.0+): the node on the host; `path` when absent.
    public var hostPath: String?
    public var type: CDIDeviceType?
    public var major: Int64?
    public var minor: Int64?
    /// `fileMode`: permission bits (at most 0o7777).
    public var fileMode: UInt32?
    /// `permissions`: cgroup access, some of `r`, `w`, `m`; nil for the default `rwm`, empty for the spec's `none`.
    public var permissions: String?
    public var uid: UInt32?
    public var gid: UInt32?

    public init(
        path: String, hostPath: String? = nil, type: CDIDeviceType? = nil, major: Int64? = nil, minor: Int64? = nil,
        fileMode: UInt32? = nil, permissions: String? = nil, uid: UInt32? = nil, gid: UInt32? = nil
    ) {
        self.path = path
        self.hostPath = hostPath
        self.type = type
        self.major = major
        self.minor = minor
        self.fileMode = fileMode
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
    }
}

/// One entry of `mounts`.
public struct CDIMount: Sendable, Equatable {
    /// `hostPath`: the source (an absolute host path for a bind mount).
    public var hostPath: String
    /// `containerPath`: the absolute destination in the container.
    public var containerPath: String
    /// `type` (0.4.0+), e.g. `bind`, `tmpfs`.
    public var type: String?
    public var options: [String]

    public init(hostPath: String, containerPath: String, type: String? = nil, options: [String] = []) {
        self.hostPath = hostPath
        self.containerPath = containerPath
        self.type = type
        self.options = options
    }

    /// A bind mount: options hold `bind` or `rbind`, or the type is absent, `bind` or `none` (specs write binds
    /// both ways).
    public var isBind: Bool {
        options.contains("bind") || options.contains("rbind") || type == nil || type == "bind" || type == "none"
    }
}

/// When a hook runs, by the OCI names the CDI spec uses.
public enum CDIHookStage: String, Sendable, Hashable, CaseIterable {
    case prestart, createRuntime, createContainer, startContainer, poststart, poststop
}

/// One entry of `hooks`.
public struct CDIHook: Sendable, Equatable {
    public var stage: CDIHookStage
    /// `path`: an absolute path to the program.
    public var path: String
    /// `args`: the full argv, `args[0]` included, as execv takes it.
    public var args: [String]
    public var env: [String]
    /// `timeout`: seconds before the hook is killed (greater than zero); nil to wait for it.
    public var timeoutSeconds: Int?

    public init(stage: CDIHookStage, path: String, args: [String] = [], env: [String] = [], timeoutSeconds: Int? = nil) {
        self.stage = stage
        self.path = path
        self.args = args
        self.env = env
        self.timeoutSeconds = timeoutSeconds
    }

    /// The timeout as a duration.
    public var timeout: Duration? { timeoutSeconds.map { .seconds($0) } }
}

/// `intelRdt` (resctrl settings).
public struct CDIIntelRdt: Sendable, Equatable {
    public var closID: String?
    public var l3CacheSchema: String?
    public var memBwSchema: String?
    /// 1.1.0+.
    public var schemata: [String]?
    /// 1.1.0+.
    public var enableMonitoring: Bool
    /// 0.7.0 up to 1.0.0 only (dropped in 1.1.0).
    public var enableCMT: Bool
    public var enableMBM: Bool

    public init(
        closID: String? = nil, l3CacheSchema: String? = nil, memBwSchema: String? = nil, schemata: [String]? = nil,
        enableMonitoring: Bool = false, enableCMT: Bool = false, enableMBM: Bool = false
    ) {
        self.closID = closID
        self.l3CacheSchema = l3CacheSchema
        self.memBwSchema = memBwSchema
        self.schemata = schemata
        self.enableMonitoring = enableMonitoring
        self.enableCMT = enableCMT
        self.enableMBM = enableMBM
    }
}

/// One entry of `netDevices` (1.1.0+): a host interface moved into the container under a new name.
public struct CDINetDevice: Sendable, Equatable {
    public var hostInterfaceName: String
    public var name: String

    public init(hostInterfaceName: String, name: String) {
        self.hostInterfaceName = hostInterfaceName
        self.name = name
    }
}
