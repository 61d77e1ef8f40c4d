/// What `capstan-init` sets up and runs: written by ``LinuxLauncher`` as JSON, read by `capstan-init` from fd 3.
///
/// A separate, dependency-free target so that `capstan-init` stays small and both sides share one definition.
public struct InitSpec: Sendable, Hashable, Codable {
    /// How the root filesystem is mounted.
    public enum RootfsMode: String, Sendable, Hashable, Codable {
        /// `overlay` with `lowerDirectories` read-only under a private upper dir.
        case overlay
        /// `directory` (a copy or a plain directory) bind-mounted as the root, writable.
        case bind
    }

    /// The container's root filesystem.
    public struct Rootfs: Sendable, Hashable, Codable {
        public var mode: RootfsMode
        /// Overlay: read-only layers, bottom-first. Bind: exactly one directory, the root itself.
        public var lowerDirectories: [String]
        /// Overlay only: the private upper and work dirs (same filesystem).
        public var upperDirectory: String?
        public var workDirectory: String?
        /// Where the root is assembled before `pivot_root` (an empty directory on the host).
        public var mountPoint: String

        public init(mode: RootfsMode, lowerDirectories: [String], upperDirectory: String? = nil, workDirectory: String? = nil,
                    mountPoint: String) {
            self.mode = mode
            self.lowerDirectories = lowerDirectories
            self.upperDirectory = upperDirectory
            self.workDirectory = workDirectory
            self.mountPoint = mountPoint
        }
    }

    /// A bind mount from the host into the container.
    public struct BindMount: Sendable, Hashable, Codable {
        /// Host path (file or directory).
        public var source: String
        /// Absolute path inside the container.
        public var target: String
        public var readOnly: Bool
        /// Open the source refusing every symlink on it (it was resolved already), and mount what was opened.
        public var refusesSymlinks: Bool
        /// Hand the mounted directory to the task's user with the sandbox (a read-write directory made in the sandbox).
        public var handedToTask: Bool

        public init(source: String, target: String, readOnly: Bool, refusesSymlinks: Bool = false, handedToTask: Bool = false) {
            self.source = source
            self.target = target
            self.readOnly = readOnly
            self.refusesSymlinks = refusesSymlinks
            self.handedToTask = handedToTask
        }
    }

    /// A device node made in the container's `/dev` (with a rootfs): at `path`, which may be nested (`/dev/dri/card0`;
    /// missing directories are made), never outside `/dev`.
    public struct DeviceNode: Sendable, Hashable, Codable {
        /// Absolute path inside the container, under `/dev/`, without `..`.
        public var path: String
        public var major: UInt32
        public var minor: UInt32
        /// `c` (character, when absent) or `b` (block).
        public var kind: String?
        /// Permission bits; 0o666 when absent.
        public var mode: UInt32?
        /// Owner; root when absent.
        public var uid: UInt32?
        public var gid: UInt32?

        public init(path: String, major: UInt32, minor: UInt32, kind: String? = nil, mode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil) {
            self.path = path
            self.major = major
            self.minor = minor
            self.kind = kind
            self.mode = mode
            self.uid = uid
            self.gid = gid
        }

        /// Whether `path` is one capstan-init makes: under `/dev/`, with no empty, `.` or `..` component.
        public static func isAllowedPath(_ path: String) -> Bool {
            guard path.hasPrefix("/dev/") else { return false }
            let components = path.dropFirst(5).split(separator: "/", omittingEmptySubsequences: false)
            return !components.isEmpty && components.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
        }
    }

    /// The task process.
    public struct Process: Sendable, Hashable, Codable {
        /// Program; searched in the `PATH` of `environment` (inside the container) when it has no `/`.
        public var path: String
        /// Complete argument vector.
        public var arguments: [String]
        /// `NAME=value` entries, exactly the task's environment.
        public var environment: [String]
        /// Working directory inside the container.
        public var workingDirectory: String
        /// `name`, `uid`, `name:group` or `uid:gid`, resolved against the container's `/etc/passwd` and `/etc/group`;
        /// `nil` runs as root.
        public var user: String?
        /// Supplementary groups added after the user's own (CDI `additionalGids`); none when absent.
        public var additionalGroups: [UInt32]?

        public init(
            path: String, arguments: [String], environment: [String], workingDirectory: String, user: String? = nil,
            additionalGroups: [UInt32]? = nil
        ) {
            self.additionalGroups = additionalGroups
            self.path = path
            self.arguments = arguments
            self.environment = environment
            self.workingDirectory = workingDirectory
            self.user = user
        }
    }

    /// The container, for messages.
    public var containerID: String
    /// Host directory where the monitor writes `exit_status` (``ExitStatusFile``).
    public var stateDirectory: String
    /// `nil`: the container keeps the host's filesystem (in a private mount namespace with its own `/proc`).
    public var rootfs: Rootfs?
    /// The sandbox (host path), bind-mounted at `sandboxTarget` when there is a rootfs.
    public var sandboxDirectory: String
    public var sandboxTarget: String
    /// Extra bind mounts, applied in order after the sandbox.
    public var mounts: [BindMount]
    /// The container's hostname (its own UTS namespace is always created).
    public var hostname: String?
    /// `true`: a network namespace of its own (only loopback); `false`: the host's network.
    public var isolateNetwork: Bool
    /// Capabilities (CAP_* numbers) a root task keeps; every other one is dropped from all sets.
    public var capabilities: [Int]
    public var process: Process
    /// Device nodes made in the container's `/dev` after the default ones (e.g. its GPUs'); ignored without a rootfs.
    public var deviceNodes: [DeviceNode] = []

    public init(containerID: String, stateDirectory: String, rootfs: Rootfs?, sandboxDirectory: String,
                sandboxTarget: String = "/mnt/mesos/sandbox", mounts: [BindMount] = [], hostname: String? = nil,
                isolateNetwork: Bool = true, capabilities: [Int] = InitSpec.defaultCapabilities, process: Process) {
        self.containerID = containerID
        self.stateDirectory = stateDirectory
        self.rootfs = rootfs
        self.sandboxDirectory = sandboxDirectory
        self.sandboxTarget = sandboxTarget
        self.mounts = mounts
        self.hostname = hostname
        self.isolateNetwork = isolateNetwork
        self.capabilities = capabilities
        self.process = process
    }

    /// Docker's and containerd's default set: CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID,
    /// SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE.
    public static let defaultCapabilities: [Int] = [0, 1, 4, 3, 27, 13, 6, 7, 31, 8, 10, 18, 5, 29]
}

/// The file in the state directory where the monitor keeps the task's exit status: `exit N` or `signal N`.
public enum ExitStatusFile {
    public static let name = "exit_status"

    /// The text for an exit code or a signal.
    public static func encode(exitCode: Int32?, signal: Int32?) -> String {
        if let signal { return "signal \(signal)\n" }
        return "exit \(exitCode ?? 127)\n"
    }

    /// Parses `exit N` / `signal N`.
    public static func decode(_ text: String) -> (exitCode: Int32?, signal: Int32?)? {
        let parts = text.split(whereSeparator: { $0.isWhitespace })
        guard parts.count == 2, let value = Int32(parts[1]) else { return nil }
        switch parts[0] {
        case "exit": return (value, nil)
        case "signal": return (nil, value)
        default: return nil
        }
    }
}

/// Resolves a user spec (`name`, `uid`, `name:group`, `uid:gid`) against passwd and group file contents.
public enum UserSpecResolver {
    public struct Resolved: Sendable, Hashable {
        public var uid: UInt32
        public var gid: UInt32
        /// Supplementary groups, including `gid`.
        public var groups: [UInt32]
        /// The passwd entry's name and home directory, when the user has an entry.
        public var name: String?
        public var home: String?

        public init(uid: UInt32, gid: UInt32, groups: [UInt32], name: String? = nil, home: String? = nil) {
            self.uid = uid
            self.gid = gid
            self.groups = groups
            self.name = name
            self.home = home
        }

        /// `HOME`, `USER` and `LOGNAME` for this user, each unless `environment` (`NAME=value` entries) names it:
        /// the entry's home (`/` without one), and its name where it has one.
        public func loginEnvironment(_ environment: [String]) -> [String] {
            var result = environment
            let values: [(String, String?)] = [("HOME", home ?? "/"), ("USER", name), ("LOGNAME", name)]
            for (variable, value) in values where !environment.contains(where: { $0.hasPrefix(variable + "=") }) {
                if let value { result.append("\(variable)=\(value)") }
            }
            return result
        }
    }

    public enum Failure: Error, Hashable {
        case unknownUser(String)
        case unknownGroup(String)
    }

    /// Resolves `spec`; a numeric uid without a passwd entry gets gid 0 (or the numeric gid given).
    public static func resolve(_ spec: String, passwd: String, group: String) -> Result<Resolved, Failure> {
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        let userPart = parts.first ?? spec
        let passwdEntries = passwd.split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
            .filter { $0.count >= 4 }
        let groupEntries = group.split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
            .filter { $0.count >= 3 }
        var uid: UInt32
        var gid: UInt32
        var name: String?
        var home: String?
        let homeOf = { (entry: [String]) -> String? in entry.count >= 6 && !entry[5].isEmpty ? entry[5] : nil }
        if let entry = passwdEntries.first(where: { $0[0] == userPart }), let u = UInt32(entry[2]), let g = UInt32(entry[3]) {
            (uid, gid, name, home) = (u, g, entry[0], homeOf(entry))
        } else if let u = UInt32(userPart) {
            uid = u
            gid = 0
            if let entry = passwdEntries.first(where: { $0[2] == userPart }), let g = UInt32(entry[3]) {
                gid = g
                name = entry[0]
                home = homeOf(entry)
            }
        } else {
            return .failure(.unknownUser(userPart))
        }
        if parts.count == 2 {
            let groupPart = parts[1]
            if let entry = groupEntries.first(where: { $0[0] == groupPart }), let g = UInt32(entry[2]) {
                gid = g
            } else if let g = UInt32(groupPart) {
                gid = g
            } else {
                return .failure(.unknownGroup(groupPart))
            }
            return .success(Resolved(uid: uid, gid: gid, groups: [gid], name: name, home: home))
        }
        var groups = [gid]
        if let name {
            for entry in groupEntries where entry.count >= 4 {
                if entry[3].split(separator: ",").contains(where: { String($0) == name }), let g = UInt32(entry[2]), !groups.contains(g) {
                    groups.append(g)
                }
            }
        }
        return .success(Resolved(uid: uid, gid: gid, groups: groups, name: name, home: home))
    }
}
