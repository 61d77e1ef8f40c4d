/// Agents the allocator never offers to a framework, and why: what the master's state reports so that an operator
/// sees why a framework gets no offers from machines it can see in GET_AGENTS.
public struct OfferWithholding: Sendable, Hashable {
    /// The withheld agents, by ID.
    public var agentIDs: [AgentID]
    /// One sentence saying why.
    public var reason: String

    /// Creates a withholding.
    public init(agentIDs: [AgentID], reason: String) {
        self.agentIDs = agentIDs
        self.reason = reason
    }

    /// Why agents with GPUs are withheld from a framework without GPU_RESOURCES (Mesos 1.0's rule).
    public static let lacksGPUResources =
        "the framework lacks the GPU_RESOURCES capability; agents with GPUs are offered only to frameworks that have it"
}

extension DRFAllocator {
    /// Whether any agent, active or not, has GPUs.
    public var hasGPUAgents: Bool { agents.contains { $0.hasGPUs } }

    /// The agents never offered to `framework` whatever its share: those with GPUs when it lacks GPU_RESOURCES
    /// (sorted by ID). Nil when it may be offered every agent, or is unknown.
    public func withholding(from framework: FrameworkID) -> OfferWithholding? {
        guard let slot = frameworkSlots[framework], !frameworks[slot].acceptsGPUs else { return nil }
        let withheld = agents.filter(\.hasGPUs).map(\.id).sorted()
        return withheld.isEmpty ? nil : OfferWithholding(agentIDs: withheld, reason: OfferWithholding.lacksGPUResources)
    }
}
