import CapstanCore

/// `VersionInfo` in mesos.proto (renamed: CapstanHTTP has its own `/version` payload type).
public struct MesosVersionInfo: Codable, Sendable, Hashable {
    public var version: String
    public var buildDate: String?
    public var buildTime: Double?
    public var buildUser: String?
    public var gitSHA: String?
    public var gitBranch: String?
    public var gitTag: String?

    enum CodingKeys: String, CodingKey {
        case version
        case buildDate = "build_date"
        case buildTime = "build_time"
        case buildUser = "build_user"
        case gitSHA = "git_sha"
        case gitBranch = "git_branch"
        case gitTag = "git_tag"
    }

    public init(
        version: String, buildDate: String? = nil, buildTime: Double? = nil, buildUser: String? = nil,
        gitSHA: String? = nil, gitBranch: String? = nil, gitTag: String? = nil
    ) {
        self.version = version
        self.buildDate = buildDate
        self.buildTime = buildTime
        self.buildUser = buildUser
        self.gitSHA = gitSHA
        self.gitBranch = gitBranch
        self.gitTag = gitTag
    }
}

/// `Flag` in mesos.proto: a command-line flag and its value.
public struct MesosFlag: Codable, Sendable, Hashable {
    public var name: String
    public var value: String?

    public init(name: String, value: String? = nil) {
        self.name = name
        self.value = value
    }
}

/// `Metric` in mesos.proto: a named value.
public struct MesosMetric: Codable, Sendable, Hashable {
    public var name: String
    public var value: Double?

    public init(name: String, value: Double? = nil) {
        self.name = name
        self.value = value
    }
}

/// `Role` in mesos.proto: a role, its weight, frameworks and allocated resources.
public struct MesosRole: Codable, Sendable, Hashable {
    public var name: String
    public var weight: Double
    @Repeated public var frameworks: [FrameworkID]
    @Repeated public var resources: [MesosResource]

    public init(name: String, weight: Double, frameworks: [FrameworkID] = [], resources: [MesosResource] = []) {
        self.name = name
        self.weight = weight
        self.frameworks = frameworks
        self.resources = resources
    }
}

/// `WeightInfo`: a role's weight.
public struct WeightInfo: Codable, Sendable, Hashable {
    public var weight: Double
    public var role: String?

    public init(weight: Double, role: String? = nil) {
        self.weight = weight
        self.role = role
    }
}

/// `FileInfo`: a file in a sandbox listing.
public struct FileInfo: Codable, Sendable, Hashable {
    public var path: String
    public var nlink: Int32?
    @OptionalWireInteger public var size: UInt64?
    public var mtime: TimeInfo?
    public var mode: UInt32?
    public var uid: String?
    public var gid: String?

    public init(
        path: String, nlink: Int32? = nil, size: UInt64? = nil, mtime: TimeInfo? = nil, mode: UInt32? = nil,
        uid: String? = nil, gid: String? = nil
    ) {
        self.path = path
        self.nlink = nlink
        self.size = size
        self.mtime = mtime
        self.mode = mode
        self.uid = uid
        self.gid = gid
    }
}
