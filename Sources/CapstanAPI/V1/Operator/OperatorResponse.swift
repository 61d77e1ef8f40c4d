/// `mesos.v1.master.Response`: the master's answer to an operator call.
public struct OperatorResponse: Codable, Sendable, Hashable {
    /// `Response.Type`.
    public enum Kind: String, MesosEnum {
        case unknown = "UNKNOWN"
        case getHealth = "GET_HEALTH"
        case getFlags = "GET_FLAGS"
        case getVersion = "GET_VERSION"
        case getMetrics = "GET_METRICS"
        case getLoggingLevel = "GET_LOGGING_LEVEL"
        case listFiles = "LIST_FILES"
        case readFile = "READ_FILE"
        case getState = "GET_STATE"
        case getAgents = "GET_AGENTS"
        case getFrameworks = "GET_FRAMEWORKS"
        case getExecutors = "GET_EXECUTORS"
        case getOperations = "GET_OPERATIONS"
        case getTasks = "GET_TASKS"
        case getRoles = "GET_ROLES"
        case getWeights = "GET_WEIGHTS"
        case getMaster = "GET_MASTER"
        case getMaintenanceStatus = "GET_MAINTENANCE_STATUS"
        case getMaintenanceSchedule = "GET_MAINTENANCE_SCHEDULE"
        case getQuota = "GET_QUOTA"
    }

    public var type: Kind?
    public var getHealth: GetHealth?
    public var getFlags: GetFlags?
    public var getVersion: GetVersion?
    public var getMetrics: GetMetrics?
    public var getLoggingLevel: GetLoggingLevel?
    public var listFiles: ListFiles?
    public var readFile: ReadFile?
    public var getState: GetState?
    public var getAgents: GetAgents?
    public var getFrameworks: GetFrameworks?
    public var getExecutors: GetExecutors?
    public var getTasks: GetTasks?
    public var getRoles: GetRoles?
    public var getWeights: GetWeights?
    public var getMaster: GetMaster?
    /// Set after `init` (GET_QUOTA).
    public var getQuota: GetQuota?
    // Maintenance (types in OperatorMaintenance.swift).
    public var getMaintenanceStatus: GetMaintenanceStatus?
    public var getMaintenanceSchedule: GetMaintenanceSchedule?

    enum CodingKeys: String, CodingKey {
        case type
        case getHealth = "get_health"
        case getFlags = "get_flags"
        case getVersion = "get_version"
        case getMetrics = "get_metrics"
        case getLoggingLevel = "get_logging_level"
        case listFiles = "list_files"
        case readFile = "read_file"
        case getState = "get_state"
        case getAgents = "get_agents"
        case getFrameworks = "get_frameworks"
        case getExecutors = "get_executors"
        case getTasks = "get_tasks"
        case getRoles = "get_roles"
        case getWeights = "get_weights"
        case getMaster = "get_master"
        case getQuota = "get_quota"
        case getMaintenanceStatus = "get_maintenance_status"
        case getMaintenanceSchedule = "get_maintenance_schedule"
    }

    public init(
        type: Kind?, getHealth: GetHealth? = nil, getFlags: GetFlags? = nil, getVersion: GetVersion? = nil,
        getMetrics: GetMetrics? = nil, getLoggingLevel: GetLoggingLevel? = nil, listFiles: ListFiles? = nil,
        readFile: ReadFile? = nil, getState: GetState? = nil, getAgents: GetAgents? = nil,
        getFrameworks: GetFrameworks? = nil, getExecutors: GetExecutors? = nil, getTasks: GetTasks? = nil,
        getRoles: GetRoles? = nil, getWeights: GetWeights? = nil, getMaster: GetMaster? = nil
    ) {
        self.type = type
        self.getHealth = getHealth
        self.getFlags = getFlags
        self.getVersion = getVersion
        self.getMetrics = getMetrics
        self.getLoggingLevel = getLoggingLevel
        self.listFiles = listFiles
        self.readFile = readFile
        self.getState = getState
        self.getAgents = getAgents
        self.getFrameworks = getFrameworks
        self.getExecutors = getExecutors
        self.getTasks = getTasks
        self.getRoles = getRoles
        self.getWeights = getWeights
        self.getMaster = getMaster
    }
}

extension OperatorResponse {
    /// `Response.GetHealth` (shared by master and agent).
    public struct GetHealth: Codable, Sendable, Hashable {
        public var healthy: Bool

        public init(healthy: Bool) { self.healthy = healthy }
    }

    /// `Response.GetFlags` (shared by master and agent).
    public struct GetFlags: Codable, Sendable, Hashable {
        @Repeated public var flags: [MesosFlag]

        public init(flags: [MesosFlag] = []) { self.flags = flags }
    }

    /// `Response.GetVersion` (shared by master and agent).
    public struct GetVersion: Codable, Sendable, Hashable {
        public var versionInfo: MesosVersionInfo

        enum CodingKeys: String, CodingKey { case versionInfo = "version_info" }

        public init(versionInfo: MesosVersionInfo) { self.versionInfo = versionInfo }
    }

    /// `Response.GetMetrics` (shared by master and agent).
    public struct GetMetrics: Codable, Sendable, Hashable {
        @Repeated public var metrics: [MesosMetric]

        public init(metrics: [MesosMetric] = []) { self.metrics = metrics }
    }

    /// `Response.GetLoggingLevel` (shared by master and agent).
    public struct GetLoggingLevel: Codable, Sendable, Hashable {
        public var level: UInt32

        public init(level: UInt32) { self.level = level }
    }

    /// `Response.ListFiles` (shared by master and agent).
    public struct ListFiles: Codable, Sendable, Hashable {
        @Repeated public var fileInfos: [FileInfo]

        enum CodingKeys: String, CodingKey { case fileInfos = "file_infos" }

        public init(fileInfos: [FileInfo] = []) { self.fileInfos = fileInfos }
    }

    /// `Response.ReadFile` (shared by master and agent).
    public struct ReadFile: Codable, Sendable, Hashable {
        @WireInteger public var size: UInt64
        public var data: Base64Bytes

        public init(size: UInt64, data: Base64Bytes) {
            self.size = size
            self.data = data
        }
    }

    /// `Response.GetRoles`.
    public struct GetRoles: Codable, Sendable, Hashable {
        @Repeated public var roles: [MesosRole]

        public init(roles: [MesosRole] = []) { self.roles = roles }
    }

    /// `Response.GetWeights`.
    public struct GetWeights: Codable, Sendable, Hashable {
        @Repeated public var weightInfos: [WeightInfo]

        enum CodingKeys: String, CodingKey { case weightInfos = "weight_infos" }

        public init(weightInfos: [WeightInfo] = []) { self.weightInfos = weightInfos }
    }

    /// `Response.GetMaster`.
    public struct GetMaster: Codable, Sendable, Hashable {
        public var masterInfo: MasterInfo?
        public var startTime: Double?
        public var electedTime: Double?

        enum CodingKeys: String, CodingKey {
            case masterInfo = "master_info"
            case startTime = "start_time"
            case electedTime = "elected_time"
        }

        public init(masterInfo: MasterInfo? = nil, startTime: Double? = nil, electedTime: Double? = nil) {
            self.masterInfo = masterInfo
            self.startTime = startTime
            self.electedTime = electedTime
        }
    }
}
