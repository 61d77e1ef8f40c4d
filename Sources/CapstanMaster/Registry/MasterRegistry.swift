public import CapstanAPI
public import CapstanCore

/// What the master keeps across its restarts, as Mesos' registry did: the agents it admitted, the frameworks
/// registered with it (their FrameworkInfo, failover timeout included, and the principal that owns each ID), the
/// operator's role weights and quota, and the maintenance schedule with each scheduled machine's mode.
///
/// Tasks are not here: agents hold them, and report them when they re-register. Nor are reservations and persistent
/// volumes: as in Mesos, each agent checkpoints its own and registers with them.
public struct RegistryContents: Sendable, Equatable {
    public var agents: [AgentID: RegisteredAgent] = [:]
    public var frameworks: [FrameworkID: RegisteredFramework] = [:]
    /// UPDATE_WEIGHTS' weights, by role.
    public var weights: [String: Double] = [:]
    /// SET_QUOTA's quotas, by role.
    public var quotas: [String: QuotaInfo] = [:]
    /// The maintenance schedule and the modes of its machines.
    public var maintenance = RegisteredMaintenance()

    public init(
        agents: [AgentID: RegisteredAgent] = [:], frameworks: [FrameworkID: RegisteredFramework] = [:], weights: [String: Double] = [:],
        quotas: [String: QuotaInfo] = [:], maintenance: RegisteredMaintenance = RegisteredMaintenance()
    ) {
        self.agents = agents
        self.frameworks = frameworks
        self.weights = weights
        self.quotas = quotas
        self.maintenance = maintenance
    }

    /// The contents after `operations`, in order: what a store holds once it applied them.
    public func applying(_ operations: [RegistryOperation]) -> RegistryContents {
        var next = self
        for operation in operations {
            switch operation {
            case .admitAgent(let agent): next.agents[agent.id] = agent
            case .removeAgent(let id): next.agents[id] = nil
            case .recordFramework(let framework): next.frameworks[framework.id] = framework
            case .removeFramework(let id): next.frameworks[id] = nil
            case .setWeight(let role, let weight): next.weights[role] = weight
            case .setQuota(let quota): next.quotas[quota.registryRole] = quota
            case .removeQuota(let role): next.quotas[role] = nil
            case .updateMaintenance(let maintenance): next.maintenance = maintenance
            }
        }
        return next
    }
}

/// An admitted agent.
public struct RegisteredAgent: Codable, Sendable, Equatable {
    public var id: AgentID
    public var info: AgentInfo
    /// Where it listens (`HOST:PORT`).
    public var endpoint: String
    /// The credential it registered with, when agents authenticate.
    public var principal: String?

    public init(id: AgentID, info: AgentInfo, endpoint: String, principal: String?) {
        self.id = id
        self.info = info
        self.endpoint = endpoint
        self.principal = principal
    }
}

/// A registered framework.
public struct RegisteredFramework: Codable, Sendable, Equatable {
    public var id: FrameworkID
    public var info: FrameworkInfo
    /// The principal that registered it; only that principal may resume the ID.
    public var principal: String?

    public init(id: FrameworkID, info: FrameworkInfo, principal: String?) {
        self.id = id
        self.info = info
        self.principal = principal
    }
}

/// One change to the registry.
public enum RegistryOperation: Sendable, Equatable {
    case admitAgent(RegisteredAgent)
    case removeAgent(AgentID)
    case recordFramework(RegisteredFramework)
    case removeFramework(FrameworkID)
    /// A role's weight (UPDATE_WEIGHTS writes one per role it names, together).
    case setWeight(role: String, weight: Double)
    /// A role's quota, replacing any the role had.
    case setQuota(QuotaInfo)
    case removeQuota(role: String)
    /// The whole maintenance schedule and machine modes, as they are after the change.
    case updateMaintenance(RegisteredMaintenance)
}

/// Where the registry lives: SQLite under the master's work dir (``SQLiteMasterRegistry``) or memory.
public protocol MasterRegistry: Sendable {
    /// Everything stored.
    func load() async throws -> RegistryContents
    /// Applies `operations` durably and atomically (all or none).
    func apply(_ operations: [RegistryOperation]) async throws
}

/// A registry that forgets everything when the process ends (`--registry in_memory`, as Mesos').
public actor InMemoryMasterRegistry: MasterRegistry {
    private var contents: RegistryContents

    public init(_ contents: RegistryContents = RegistryContents()) { self.contents = contents }

    public func load() -> RegistryContents { contents }
    public func apply(_ operations: [RegistryOperation]) { contents = contents.applying(operations) }
}
