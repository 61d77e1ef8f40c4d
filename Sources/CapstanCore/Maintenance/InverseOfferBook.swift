/// The inverse offers the master has outstanding, and the refusal filters frameworks set when they answer one:
/// a framework gets at most one inverse offer per agent at a time, and none while its filter for that agent lasts.
public struct InverseOfferBook: Sendable {
    /// One outstanding inverse offer.
    public struct Entry: Sendable, Hashable {
        public let id: OfferID
        public let framework: FrameworkID
        public let agent: AgentID
        public let machine: MachineID

        public init(id: OfferID, framework: FrameworkID, agent: AgentID, machine: MachineID) {
            self.id = id
            self.framework = framework
            self.agent = agent
            self.machine = machine
        }
    }

    private struct Pair: Hashable {
        let framework: FrameworkID
        let agent: AgentID
    }

    public private(set) var outstanding: [OfferID: Entry] = [:]
    /// Until when (on the caller's clock, seconds) a framework is not sent inverse offers for an agent.
    private var refusedUntil: [Pair: Double] = [:]

    public init() {}

    /// Whether `framework` should get an inverse offer for `agent` now: none outstanding and no filter in force.
    public func shouldOffer(to framework: FrameworkID, on agent: AgentID, now: Double) -> Bool {
        if outstanding.values.contains(where: { $0.framework == framework && $0.agent == agent }) { return false }
        if let until = refusedUntil[Pair(framework: framework, agent: agent)], until > now { return false }
        return true
    }

    public mutating func offered(_ entry: Entry) { outstanding[entry.id] = entry }

    /// A framework's ACCEPT or DECLINE of its own outstanding inverse offer: the offer goes and no new one comes
    /// for `refuseSeconds`. nil (nothing changes) for an offer that is not outstanding or belongs to another framework.
    public mutating func answer(_ id: OfferID, from framework: FrameworkID, refuseSeconds: Double, now: Double) -> Entry? {
        guard let entry = outstanding[id], entry.framework == framework else { return nil }
        outstanding[id] = nil
        if refuseSeconds > 0 { refusedUntil[Pair(framework: framework, agent: entry.agent)] = now + refuseSeconds }
        return entry
    }

    /// Removes the outstanding inverse offers that match (to be rescinded or dropped) and answers them, by ID.
    public mutating func remove(where predicate: (Entry) -> Bool) -> [Entry] {
        let removed = outstanding.values.filter(predicate).sorted { $0.id < $1.id }
        for entry in removed { outstanding[entry.id] = nil }
        return removed
    }

    /// Forgets the refusal filters for an agent (its unavailability changed: frameworks are asked afresh).
    public mutating func clearFilters(on agent: AgentID) {
        refusedUntil = refusedUntil.filter { $0.key.agent != agent }
    }
}
