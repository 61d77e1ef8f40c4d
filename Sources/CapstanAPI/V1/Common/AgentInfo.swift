import CapstanCore

/// `AgentInfo`: describes an agent.
public struct AgentInfo: Codable, Sendable, Hashable {
    public var hostname: String
    public var port: Int32?
    @Repeated public var resources: [MesosResource]
    @Repeated public var attributes: [MesosAttribute]
    public var id: AgentID?
    public var domain: DomainInfo?

    public init(
        hostname: String, port: Int32? = nil, resources: [MesosResource] = [], attributes: [MesosAttribute] = [],
        id: AgentID? = nil, domain: DomainInfo? = nil
    ) {
        self.hostname = hostname
        self.port = port
        self.resources = resources
        self.attributes = attributes
        self.id = id
        self.domain = domain
    }

    /// `AgentInfo.Capability`.
    public struct Capability: Codable, Sendable, Hashable {
        /// `Capability.Type`.
        public enum Kind: String, MesosEnum {
            case unknown = "UNKNOWN"
            case multiRole = "MULTI_ROLE"
            case hierarchicalRole = "HIERARCHICAL_ROLE"
            case reservationRefinement = "RESERVATION_REFINEMENT"
            case resourceProvider = "RESOURCE_PROVIDER"
            case resizeVolume = "RESIZE_VOLUME"
            case agentOperationFeedback = "AGENT_OPERATION_FEEDBACK"
            case agentDraining = "AGENT_DRAINING"
            case taskResourceLimits = "TASK_RESOURCE_LIMITS"
        }

        public var type: Kind?

        public init(type: Kind? = nil) { self.type = type }
    }
}

/// `MasterInfo`: describes the leading master.
public struct MasterInfo: Codable, Sendable, Hashable {
    public var id: String
    /// The IPv4 address in network byte order packed into an integer, as Mesos sends it.
    public var ip: UInt32
    public var port: UInt32
    public var pid: String?
    public var hostname: String?
    public var version: String?
    public var address: Address?
    public var domain: DomainInfo?
    @Repeated public var capabilities: [Capability]

    public init(
        id: String, ip: UInt32, port: UInt32, pid: String? = nil, hostname: String? = nil, version: String? = nil,
        address: Address? = nil, domain: DomainInfo? = nil, capabilities: [Capability] = []
    ) {
        self.id = id
        self.ip = ip
        self.port = port
        self.pid = pid
        self.hostname = hostname
        self.version = version
        self.address = address
        self.domain = domain
        self.capabilities = capabilities
    }

    /// `MasterInfo.Capability`.
    public struct Capability: Codable, Sendable, Hashable {
        /// `Capability.Type`.
        public enum Kind: String, MesosEnum {
            case unknown = "UNKNOWN"
            case agentUpdate = "AGENT_UPDATE"
            case agentDraining = "AGENT_DRAINING"
            case quotaV2 = "QUOTA_V2"
        }

        public var type: Kind?

        public init(type: Kind? = nil) { self.type = type }
    }
}
