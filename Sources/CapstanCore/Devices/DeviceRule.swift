/// What a process may do with a device node: the cgroup device permissions.
public struct DeviceAccess: OptionSet, Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let read = DeviceAccess(rawValue: 1)
    public static let write = DeviceAccess(rawValue: 2)
    /// Create the node with mknod(2).
    public static let mknod = DeviceAccess(rawValue: 4)
    public static let all: DeviceAccess = [.read, .write, .mknod]

    /// Parses `r`, `w`, `m` in any order and combination (cgroup v1 and CDI `permissions`); nil for any other letter.
    public init?(letters: String) {
        var access: DeviceAccess = []
        for letter in letters {
            switch letter {
            case "r": access.insert(.read)
            case "w": access.insert(.write)
            case "m": access.insert(.mknod)
            default: return nil
            }
        }
        self = access
    }

    /// `rwm` order, as cgroup v1 writes it.
    public var description: String {
        (contains(.read) ? "r" : "") + (contains(.write) ? "w" : "") + (contains(.mknod) ? "m" : "")
    }
}

/// The kind of device node a rule or a node is about.
public enum DeviceKind: String, Sendable, Hashable, Codable {
    case char = "c"
    case block = "b"
}

/// One allow rule of a container's device policy: `c 195:0 rwm`, `c 136:* rwm`, `b *:* m`.
public struct DeviceRule: Sendable, Hashable, Codable, CustomStringConvertible {
    /// nil: both kinds (`a`).
    public var kind: DeviceKind?
    /// nil: any major (`*`).
    public var major: Int64?
    /// nil: any minor (`*`).
    public var minor: Int64?
    public var access: DeviceAccess

    public init(_ kind: DeviceKind?, _ major: Int64?, _ minor: Int64?, _ access: DeviceAccess) {
        self.kind = kind
        self.major = major
        self.minor = minor
        self.access = access
    }

    /// Whether the rule grants `access` on the node `kind major:minor`.
    public func allows(_ kind: DeviceKind, major: Int64, minor: Int64, access: DeviceAccess) -> Bool {
        (self.kind == nil || self.kind == kind) && (self.major == nil || self.major == major)
            && (self.minor == nil || self.minor == minor) && self.access.isSuperset(of: access)
    }

    /// The cgroup v1 `devices.allow` line.
    public var description: String {
        "\(kind?.rawValue ?? "a") \(major.map(String.init) ?? "*"):\(minor.map(String.init) ?? "*") \(access)"
    }
}

/// Which device nodes a container may open or create: everything is denied but what ``rules`` allow. The
/// containerizer enforces it with cgroup v1 `devices.deny`/`devices.allow` or a cgroup v2 device BPF program.
public struct DevicePolicy: Sendable, Hashable, Codable {
    /// Allow rules, in order (duplicates removed).
    public private(set) var rules: [DeviceRule]

    /// A policy allowing exactly `rules`.
    public init(rules: [DeviceRule]) {
        self.rules = []
        for rule in rules { allow(rule) }
    }

    /// Adds a rule (a rule already present is not repeated).
    public mutating func allow(_ rule: DeviceRule) {
        guard !rule.access.isEmpty, !rules.contains(rule) else { return }
        rules.append(rule)
    }

    /// Whether the policy grants `access` on `kind major:minor`.
    public func allows(_ kind: DeviceKind, major: Int64, minor: Int64, access: DeviceAccess) -> Bool {
        // As cgroup v1's devices controller: one rule must grant every bit asked for.
        rules.contains { $0.allows(kind, major: major, minor: minor, access: access) }
    }

    /// What every container may use (Mesos' `cgroups/devices` whitelist): mknod of any node (opening stays denied),
    /// null, zero, full, random, urandom, tty, console, ptmx, the pty slaves, tun and fuse.
    public static let containerDefaults = DevicePolicy(rules: [
        DeviceRule(.char, nil, nil, .mknod), DeviceRule(.block, nil, nil, .mknod),
        DeviceRule(.char, 1, 3, .all), DeviceRule(.char, 1, 5, .all), DeviceRule(.char, 1, 7, .all), DeviceRule(.char, 1, 8, .all),
        DeviceRule(.char, 1, 9, .all), DeviceRule(.char, 5, 0, .all), DeviceRule(.char, 5, 1, .all), DeviceRule(.char, 5, 2, .all),
        DeviceRule(.char, 136, nil, .all), DeviceRule(.char, 10, 200, .all), DeviceRule(.char, 10, 229, .all),
    ])
}
