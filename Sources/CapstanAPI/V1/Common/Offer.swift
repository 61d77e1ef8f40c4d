import CapstanCore

/// `Offer`: resources of one agent offered to one framework.
public struct Offer: Codable, Sendable, Hashable {
    public var id: OfferID
    public var frameworkID: FrameworkID
    public var agentID: AgentID
    public var hostname: String
    public var url: MesosURL?
    public var domain: DomainInfo?
    @Repeated public var resources: [MesosResource]
    @Repeated public var attributes: [MesosAttribute]
    @Repeated public var executorIDs: [ExecutorID]
    public var unavailability: Unavailability?
    public var allocationInfo: MesosResource.AllocationInfo?

    enum CodingKeys: String, CodingKey {
        case id
        case frameworkID = "framework_id"
        case agentID = "agent_id"
        case hostname, url, domain, resources, attributes
        case executorIDs = "executor_ids"
        case unavailability
        case allocationInfo = "allocation_info"
    }

    public init(
        id: OfferID, frameworkID: FrameworkID, agentID: AgentID, hostname: String, url: MesosURL? = nil,
        domain: DomainInfo? = nil, resources: [MesosResource] = [], attributes: [MesosAttribute] = [],
        executorIDs: [ExecutorID] = [], unavailability: Unavailability? = nil,
        allocationInfo: MesosResource.AllocationInfo? = nil
    ) {
        self.id = id
        self.frameworkID = frameworkID
        self.agentID = agentID
        self.hostname = hostname
        self.url = url
        self.domain = domain
        self.resources = resources
        self.attributes = attributes
        self.executorIDs = executorIDs
        self.unavailability = unavailability
        self.allocationInfo = allocationInfo
    }
}

/// `InverseOffer`: a request to give resources back (maintenance).
public struct InverseOffer: Codable, Sendable, Hashable {
    public var id: OfferID
    public var url: MesosURL?
    public var frameworkID: FrameworkID
    public var agentID: AgentID?
    public var unavailability: Unavailability
    @Repeated public var resources: [MesosResource]

    enum CodingKeys: String, CodingKey {
        case id, url
        case frameworkID = "framework_id"
        case agentID = "agent_id"
        case unavailability, resources
    }

    public init(
        id: OfferID, url: MesosURL? = nil, frameworkID: FrameworkID, agentID: AgentID? = nil,
        unavailability: Unavailability, resources: [MesosResource] = []
    ) {
        self.id = id
        self.url = url
        self.frameworkID = frameworkID
        self.agentID = agentID
        self.unavailability = unavailability
        self.resources = resources
    }
}

/// `Filters`: how long declined or unused resources stay away from the framework.
public struct Filters: Codable, Sendable, Hashable {
    /// Seconds to refuse the resources; nil means Mesos' default of 5.
    public var refuseSeconds: Double?

    enum CodingKeys: String, CodingKey { case refuseSeconds = "refuse_seconds" }

    public init(refuseSeconds: Double? = nil) { self.refuseSeconds = refuseSeconds }
}

/// `Request` in mesos.proto: a resource request to the allocator (renamed to avoid clashing with HTTP `Request`).
public struct MesosRequest: Codable, Sendable, Hashable {
    public var agentID: AgentID?
    @Repeated public var resources: [MesosResource]

    enum CodingKeys: String, CodingKey {
        case agentID = "agent_id"
        case resources
    }

    public init(agentID: AgentID? = nil, resources: [MesosResource] = []) {
        self.agentID = agentID
        self.resources = resources
    }
}
