import CapstanCore

/// `mesos.v1.master.Call`: an operator call POSTed to the master's `/api/v1`.
public struct OperatorCall: Codable, Sendable, Hashable {
    /// `Call.UnreserveResources` (its `source` stays empty).
    public typealias UnreserveResources = ReserveResources
    /// `Call.CreateVolumes`.
    public typealias CreateVolumes = Volumes
    /// `Call.DestroyVolumes`.
    public typealias DestroyVolumes = Volumes
    /// `Call.MarkAgentGone`.
    public typealias MarkAgentGone = AgentTarget
    /// `Call.DeactivateAgent`.
    public typealias DeactivateAgent = AgentTarget
    /// `Call.ReactivateAgent`.
    public typealias ReactivateAgent = AgentTarget

    /// `Call.Type`. Every type parses; the master answers the ones it does not implement as unsupported.
    public enum Kind: String, MesosEnum {
        case unknown = "UNKNOWN"
        case getHealth = "GET_HEALTH"
        case getFlags = "GET_FLAGS"
        case getVersion = "GET_VERSION"
        case getMetrics = "GET_METRICS"
        case getLoggingLevel = "GET_LOGGING_LEVEL"
        case setLoggingLevel = "SET_LOGGING_LEVEL"
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
        case updateWeights = "UPDATE_WEIGHTS"
        case getMaster = "GET_MASTER"
        case subscribe = "SUBSCRIBE"
        case reserveResources = "RESERVE_RESOURCES"
        case unreserveResources = "UNRESERVE_RESOURCES"
        case createVolumes = "CREATE_VOLUMES"
        case destroyVolumes = "DESTROY_VOLUMES"
        case growVolume = "GROW_VOLUME"
        case shrinkVolume = "SHRINK_VOLUME"
        case getMaintenanceStatus = "GET_MAINTENANCE_STATUS"
        case getMaintenanceSchedule = "GET_MAINTENANCE_SCHEDULE"
        case updateMaintenanceSchedule = "UPDATE_MAINTENANCE_SCHEDULE"
        case startMaintenance = "START_MAINTENANCE"
        case stopMaintenance = "STOP_MAINTENANCE"
        case drainAgent = "DRAIN_AGENT"
        case deactivateAgent = "DEACTIVATE_AGENT"
        case reactivateAgent = "REACTIVATE_AGENT"
        case getQuota = "GET_QUOTA"
        case updateQuota = "UPDATE_QUOTA"
        case setQuota = "SET_QUOTA"
        case removeQuota = "REMOVE_QUOTA"
        case teardown = "TEARDOWN"
        case markAgentGone = "MARK_AGENT_GONE"
    }

    /// `Call.GetMetrics`.
    public struct GetMetrics: Codable, Sendable, Hashable {
        public var timeout: DurationInfo?

        public init(timeout: DurationInfo? = nil) { self.timeout = timeout }
    }

    /// `Call.SetLoggingLevel`.
    public struct SetLoggingLevel: Codable, Sendable, Hashable {
        public var level: UInt32
        public var duration: DurationInfo

        public init(level: UInt32, duration: DurationInfo) {
            self.level = level
            self.duration = duration
        }
    }

    /// `Call.ListFiles`.
    public struct ListFiles: Codable, Sendable, Hashable {
        public var path: String

        public init(path: String) { self.path = path }
    }

    /// `Call.ReadFile`.
    public struct ReadFile: Codable, Sendable, Hashable {
        public var path: String
        @WireInteger public var offset: UInt64
        @OptionalWireInteger public var length: UInt64?

        public init(path: String, offset: UInt64, length: UInt64? = nil) {
            self.path = path
            self.offset = offset
            self.length = length
        }
    }

    /// `Call.UpdateWeights`.
    public struct UpdateWeights: Codable, Sendable, Hashable {
        @Repeated public var weightInfos: [WeightInfo]

        enum CodingKeys: String, CodingKey { case weightInfos = "weight_infos" }

        public init(weightInfos: [WeightInfo] = []) { self.weightInfos = weightInfos }
    }

    /// `Call.ReserveResources` / `Call.UnreserveResources`.
    public struct ReserveResources: Codable, Sendable, Hashable {
        public var agentID: AgentID
        @Repeated public var source: [MesosResource]
        @Repeated public var resources: [MesosResource]

        enum CodingKeys: String, CodingKey {
            case agentID = "agent_id"
            case source, resources
        }

        public init(agentID: AgentID, source: [MesosResource] = [], resources: [MesosResource] = []) {
            self.agentID = agentID
            self.source = source
            self.resources = resources
        }
    }

    /// `Call.CreateVolumes` / `Call.DestroyVolumes`.
    public struct Volumes: Codable, Sendable, Hashable {
        public var agentID: AgentID
        @Repeated public var volumes: [MesosResource]

        enum CodingKeys: String, CodingKey {
            case agentID = "agent_id"
            case volumes
        }

        public init(agentID: AgentID, volumes: [MesosResource] = []) {
            self.agentID = agentID
            self.volumes = volumes
        }
    }

    /// `Call.Teardown`: remove a framework.
    public struct Teardown: Codable, Sendable, Hashable {
        public var frameworkID: FrameworkID

        enum CodingKeys: String, CodingKey { case frameworkID = "framework_id" }

        public init(frameworkID: FrameworkID) { self.frameworkID = frameworkID }
    }

    /// `Call.MarkAgentGone`, `Call.DeactivateAgent`, `Call.ReactivateAgent`: one agent.
    public struct AgentTarget: Codable, Sendable, Hashable {
        public var agentID: AgentID

        enum CodingKeys: String, CodingKey { case agentID = "agent_id" }

        public init(agentID: AgentID) { self.agentID = agentID }
    }

    public var type: Kind?
    public var getMetrics: GetMetrics?
    public var setLoggingLevel: SetLoggingLevel?
    public var listFiles: ListFiles?
    public var readFile: ReadFile?
    public var updateWeights: UpdateWeights?
    public var reserveResources: ReserveResources?
    public var unreserveResources: ReserveResources?
    public var createVolumes: Volumes?
    public var destroyVolumes: Volumes?
    public var deactivateAgent: AgentTarget?
    public var reactivateAgent: AgentTarget?
    public var teardown: Teardown?
    public var markAgentGone: AgentTarget?
    /// Set after `init` (SET_QUOTA, REMOVE_QUOTA).
    public var setQuota: SetQuota?
    public var removeQuota: RemoveQuota?
    // Maintenance (types in OperatorMaintenance.swift).
    public var updateMaintenanceSchedule: UpdateMaintenanceSchedule?
    public var startMaintenance: Machines?
    public var stopMaintenance: Machines?

    enum CodingKeys: String, CodingKey {
        case type
        case getMetrics = "get_metrics"
        case setLoggingLevel = "set_logging_level"
        case listFiles = "list_files"
        case readFile = "read_file"
        case updateWeights = "update_weights"
        case reserveResources = "reserve_resources"
        case unreserveResources = "unreserve_resources"
        case createVolumes = "create_volumes"
        case destroyVolumes = "destroy_volumes"
        case deactivateAgent = "deactivate_agent"
        case reactivateAgent = "reactivate_agent"
        case teardown
        case markAgentGone = "mark_agent_gone"
        case setQuota = "set_quota"
        case removeQuota = "remove_quota"
        case updateMaintenanceSchedule = "update_maintenance_schedule"
        case startMaintenance = "start_maintenance"
        case stopMaintenance = "stop_maintenance"
    }

    public init(
        type: Kind?, getMetrics: GetMetrics? = nil, setLoggingLevel: SetLoggingLevel? = nil,
        listFiles: ListFiles? = nil, readFile: ReadFile? = nil, updateWeights: UpdateWeights? = nil,
        reserveResources: ReserveResources? = nil, unreserveResources: ReserveResources? = nil,
        createVolumes: Volumes? = nil, destroyVolumes: Volumes? = nil, deactivateAgent: AgentTarget? = nil,
        reactivateAgent: AgentTarget? = nil, teardown: Teardown? = nil, markAgentGone: AgentTarget? = nil
    ) {
        self.type = type
        self.getMetrics = getMetrics
        self.setLoggingLevel = setLoggingLevel
        self.listFiles = listFiles
        self.readFile = readFile
        self.updateWeights = updateWeights
        self.reserveResources = reserveResources
        self.unreserveResources = unreserveResources
        self.createVolumes = createVolumes
        self.destroyVolumes = destroyVolumes
        self.deactivateAgent = deactivateAgent
        self.reactivateAgent = reactivateAgent
        self.teardown = teardown
        self.markAgentGone = markAgentGone
    }
}
