/// One agent as placement sees it: who it is, its attributes (for constraints) and what is free on it.
public struct AgentCapacity: Sendable, Hashable {
    public var agentID: AgentID
    /// Matched by constraints on the attribute `hostname`.
    public var hostname: String
    /// Attribute values in their flag form (`zone: "eu-1"`, `rack: "3"`, ranges as `[1-2]`).
    public var attributes: [String: String]
    /// Resources not allocated to any task: `cpus`, `mem` (MiB), `disk` (MiB), `gpus`, and `ports` ranges.
    public var free: Resources

    public init(agentID: AgentID, hostname: String, attributes: [String: String] = [:], free: Resources) {
        self.agentID = agentID
        self.hostname = hostname
        self.attributes = attributes
        self.free = free
    }

    /// The value a constraint on `attribute` sees: the hostname for `hostname`, else the attribute's value.
    public func value(of attribute: String) -> String? {
        attribute == Constraint.hostname ? hostname : attributes[attribute]
    }
}
