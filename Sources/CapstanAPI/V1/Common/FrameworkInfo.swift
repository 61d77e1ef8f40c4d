import CapstanCore

/// `FrameworkInfo`: describes a framework (scheduler).
public struct FrameworkInfo: Codable, Sendable, Hashable {
    public var user: String
    public var name: String
    public var id: FrameworkID?
    public var failoverTimeout: Double?
    public var checkpoint: Bool?
    /// Deprecated in favour of `roles` (with the MULTI_ROLE capability).
    public var role: String?
    @Repeated public var roles: [String]
    public var hostname: String?
    public var principal: String?
    public var webuiURL: String?
    @Repeated public var capabilities: [Capability]
    public var labels: Labels?

    enum CodingKeys: String, CodingKey {
        case user, name, id
        case failoverTimeout = "failover_timeout"
        case checkpoint, role, roles, hostname, principal
        case webuiURL = "webui_url"
        case capabilities, labels
    }

    public init(
        user: String, name: String, id: FrameworkID? = nil, failoverTimeout: Double? = nil, checkpoint: Bool? = nil,
        role: String? = nil, roles: [String] = [], hostname: String? = nil, principal: String? = nil,
        webuiURL: String? = nil, capabilities: [Capability] = [], labels: Labels? = nil
    ) {
        self.user = user
        self.name = name
        self.id = id
        self.failoverTimeout = failoverTimeout
        self.checkpoint = checkpoint
        self.role = role
        self.roles = roles
        self.hostname = hostname
        self.principal = principal
        self.webuiURL = webuiURL
        self.capabilities = capabilities
        self.labels = labels
    }

    /// `FrameworkInfo.Capability`.
    public struct Capability: Codable, Sendable, Hashable {
        /// `Capability.Type`.
        public enum Kind: String, MesosEnum {
            case unknown = "UNKNOWN"
            case revocableResources = "REVOCABLE_RESOURCES"
            case taskKillingState = "TASK_KILLING_STATE"
            case gpuResources = "GPU_RESOURCES"
            case sharedResources = "SHARED_RESOURCES"
            case partitionAware = "PARTITION_AWARE"
            case multiRole = "MULTI_ROLE"
            case reservationRefinement = "RESERVATION_REFINEMENT"
            case regionAware = "REGION_AWARE"
        }

        public var type: Kind?

        public init(type: Kind? = nil) { self.type = type }
    }
}
