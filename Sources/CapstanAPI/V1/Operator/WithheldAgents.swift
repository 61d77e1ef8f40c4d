import CapstanCore

/// Capstan's addition to a framework in GET_FRAMEWORKS and GET_STATE, as `capstan_withheld_agents` (absent when
/// nothing is withheld): the agents the allocator never offers to the framework, and why. Mesos 1.0 keeps agents
/// with GPUs from frameworks without GPU_RESOURCES silently; this says so.
public struct WithheldAgents: Codable, Sendable, Hashable {
    /// The withheld agents.
    @Repeated public var agentIDs: [AgentID]
    /// One sentence saying why they are withheld.
    public var reason: String

    enum CodingKeys: String, CodingKey {
        case agentIDs = "agent_ids"
        case reason
    }

    /// Creates the field's value.
    public init(agentIDs: [AgentID], reason: String) {
        self.agentIDs = agentIDs
        self.reason = reason
    }

    /// The allocator's withholding, on the wire.
    public init(_ withholding: OfferWithholding) {
        self.init(agentIDs: withholding.agentIDs, reason: withholding.reason)
    }
}
