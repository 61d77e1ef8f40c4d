/// Mesos' hierarchical DRF allocator as a pure value: the master feeds it agent, framework and
/// resource events, and calls ``allocate(now:)`` once per allocation interval to get offers.
///
/// Each cycle visits the active agents in a freshly shuffled (seeded) order. For each agent it
/// sorts roles by weighted dominant share and frameworks within a role by dominant share, and
/// gives the first eligible framework everything on the agent that its role may use.
/// Allocations count immediately, so the next agent goes to the next-lowest share. Time is
/// plain `Double` seconds supplied by the caller, so filters are tested without clocks.
public struct DRFAllocator: Sendable {
    struct AgentState: Sendable {
        let id: AgentID
        var total: Resources
        /// What each framework holds here: offered or used by its tasks.
        var allocations: [FrameworkID: Resources]
        /// `total` less all allocations, kept up to date on every change.
        var available: Resources
        var active: Bool
        /// Whether `total` holds GPUs: only frameworks that accept GPUs are offered this agent (Mesos 1.0).
        var hasGPUs: Bool

        init(id: AgentID, total: Resources, allocations: [FrameworkID: Resources], available: Resources, active: Bool) {
            self.id = id
            self.total = total
            self.allocations = allocations
            self.available = available
            self.active = active
            hasGPUs = total.gpus > 0
        }
    }

    /// A refused-offer filter: the framework is not offered resources on the agent that are
    /// contained in `resources` until `expires`.
    struct OfferFilter: Sendable {
        var resources: Resources
        var expires: Double
    }

    struct FrameworkState: Sendable {
        let id: FrameworkID
        var role: String
        var active: Bool
        /// The framework has the GPU_RESOURCES capability: it may be offered agents with GPUs.
        var acceptsGPUs = false
        var suppressed = false
        /// Allocated scalars by ``ScalarLedger`` slot, over all agents.
        var allocated: [Double] = []
        var filters: [AgentID: [OfferFilter]] = [:]
    }

    /// Settings; the role weights change at run time (``updateWeights(_:)``).
    var config: AllocatorConfig
    /// Quota guarantees by role (``setQuota(_:guarantee:)``).
    var quotas: [String: Resources] = [:]
    var ledger: ScalarLedger
    var generator: SeededGenerator
    var agents: [AgentState] = []
    var agentSlots: [AgentID: Int] = [:]
    var frameworks: [FrameworkState] = []
    var frameworkSlots: [FrameworkID: Int] = [:]
    /// The agents where each framework holds resources; kept also for frameworks not (yet)
    /// added, whose tasks an agent reported on re-registration.
    var holdings: [FrameworkID: Set<AgentID>] = [:]

    /// Creates an empty allocator.
    public init(config: AllocatorConfig = .init()) {
        self.config = config
        ledger = ScalarLedger(excluding: config.fairnessExcludeResourceNames)
        generator = SeededGenerator(seed: config.seed)
    }

    // MARK: Agents

    /// Adds an agent, or replaces one with the same ID. `allocated` holds what tasks already
    /// running there use, per framework (agent re-registration); it is counted at once, also
    /// for frameworks that have not re-registered yet.
    public mutating func addAgent(_ id: AgentID, total: Resources, allocated: [FrameworkID: Resources] = [:]) {
        if agentSlots[id] != nil { removeAgent(id) }
        ledger.addToCluster(total, sign: 1)
        var used = Resources()
        var allocations: [FrameworkID: Resources] = [:]
        for (framework, resources) in allocated where !resources.isEmpty {
            ledger.register(resources)
            allocations[framework] = resources
            used += resources
            holdings[framework, default: []].insert(id)
            if let slot = frameworkSlots[framework] {
                ledger.add(resources, into: &frameworks[slot].allocated, sign: 1)
            }
        }
        agentSlots[id] = agents.count
        agents.append(AgentState(id: id, total: total, allocations: allocations, available: total - used, active: true))
    }

    /// Removes an agent; what frameworks held there is forgotten, and its filters dropped.
    public mutating func removeAgent(_ id: AgentID) {
        guard let slot = agentSlots.removeValue(forKey: id) else { return }
        let agent = agents[slot]
        for (framework, resources) in agent.allocations {
            releaseHolding(framework, on: id)
            if let frameworkSlot = frameworkSlots[framework] {
                ledger.add(resources, into: &frameworks[frameworkSlot].allocated, sign: -1)
            }
        }
        for index in frameworks.indices where !frameworks[index].filters.isEmpty {
            frameworks[index].filters[id] = nil
        }
        ledger.addToCluster(agent.total, sign: -1)
        let last = agents.count - 1
        if slot != last {
            agents.swapAt(slot, last)
            agentSlots[agents[slot].id] = slot
        }
        agents.removeLast()
    }

    /// Makes an agent eligible for offers again.
    public mutating func activateAgent(_ id: AgentID) {
        if let slot = agentSlots[id] { agents[slot].active = true }
    }

    /// Stops offering an agent (it is unreachable or draining); allocations there remain.
    public mutating func deactivateAgent(_ id: AgentID) {
        if let slot = agentSlots[id] { agents[slot].active = false }
    }

    /// What is not allocated on the agent: its total less all allocations; empty if unknown.
    public func available(on agent: AgentID) -> Resources {
        agentSlots[agent].map { agents[$0].available } ?? Resources()
    }

    /// The agent's total resources; empty if unknown.
    public func total(on agent: AgentID) -> Resources {
        agentSlots[agent].map { agents[$0].total } ?? Resources()
    }

    /// What each framework holds on the agent.
    public func allocations(on agent: AgentID) -> [FrameworkID: Resources] {
        agentSlots[agent].map { agents[$0].allocations } ?? [:]
    }

    /// The number of agents, active or not.
    public var agentCount: Int { agents.count }

    // MARK: Frameworks

    /// Adds a framework in `role`. Adding a known ID updates its role, activity and capability and
    /// keeps its allocations (failover); resources agents reported for it beforehand count at once.
    /// `acceptsGPUs` (GPU_RESOURCES): as in Mesos 1.0, agents with GPUs are offered only to such
    /// frameworks, so that the others never hold a GPU machine's CPUs and memory.
    public mutating func addFramework(_ id: FrameworkID, role: String, active: Bool = true, acceptsGPUs: Bool = false) {
        if let slot = frameworkSlots[id] {
            frameworks[slot].role = role
            frameworks[slot].active = active
            frameworks[slot].acceptsGPUs = acceptsGPUs
            return
        }
        var state = FrameworkState(id: id, role: role, active: active)
        state.acceptsGPUs = acceptsGPUs
        for agent in holdings[id] ?? [] {
            guard let agentSlot = agentSlots[agent], let held = agents[agentSlot].allocations[id] else { continue }
            ledger.add(held, into: &state.allocated, sign: 1)
        }
        frameworkSlots[id] = frameworks.count
        frameworks.append(state)
    }

    /// Whether the framework may be offered agents with GPUs (its GPU_RESOURCES capability, after a failover).
    public mutating func setAcceptsGPUs(_ id: FrameworkID, _ accepts: Bool) {
        guard let slot = frameworkSlots[id] else { return }
        frameworks[slot].acceptsGPUs = accepts
    }

    /// Removes a framework; everything it held on every agent returns to the pool.
    public mutating func removeFramework(_ id: FrameworkID) {
        for agent in holdings.removeValue(forKey: id) ?? [] {
            guard let agentSlot = agentSlots[agent],
                let held = agents[agentSlot].allocations.removeValue(forKey: id)
            else { continue }
            agents[agentSlot].available += held
        }
        guard let slot = frameworkSlots.removeValue(forKey: id) else { return }
        let last = frameworks.count - 1
        if slot != last {
            frameworks.swapAt(slot, last)
            frameworkSlots[frameworks[slot].id] = slot
        }
        frameworks.removeLast()
    }

    /// Makes a framework eligible for offers again.
    public mutating func activateFramework(_ id: FrameworkID) {
        if let slot = frameworkSlots[id] { frameworks[slot].active = true }
    }

    /// Stops offering to a framework (its scheduler disconnected); it keeps its allocations.
    public mutating func deactivateFramework(_ id: FrameworkID) {
        if let slot = frameworkSlots[id] { frameworks[slot].active = false }
    }

    /// Stops offers to a framework until ``revive(_:)`` (the v1 `SUPPRESS` call).
    public mutating func suppress(_ id: FrameworkID) {
        if let slot = frameworkSlots[id] { frameworks[slot].suppressed = true }
    }

    /// Clears suppression and all of the framework's filters (the v1 `REVIVE` call).
    public mutating func revive(_ id: FrameworkID) {
        guard let slot = frameworkSlots[id] else { return }
        frameworks[slot].suppressed = false
        frameworks[slot].filters = [:]
    }

    /// The number of frameworks added.
    public var frameworkCount: Int { frameworks.count }

    /// The framework's dominant share (not divided by its role's weight); 0 if unknown.
    public func dominantShare(of framework: FrameworkID) -> Double {
        frameworkSlots[framework].map { ledger.dominantShare(of: frameworks[$0].allocated) } ?? 0
    }

    /// Everything the framework holds, summed over agents.
    public func allocated(to framework: FrameworkID) -> Resources {
        var sum = Resources()
        for agent in holdings[framework] ?? [] {
            if let slot = agentSlots[agent], let held = agents[slot].allocations[framework] { sum += held }
        }
        return sum
    }

    // MARK: Resource flow

    /// Returns resources a framework held on an agent to the pool: a declined or rescinded
    /// offer, the unused part of an accepted one, or a finished task's resources. Only what the
    /// framework actually held there comes back.
    ///
    /// With `refuseSeconds` > 0 it also installs a filter: until `now + refuseSeconds` the
    /// framework is not offered resources on this agent that are contained in `resources`
    /// (Mesos' `Filters.refuse_seconds`, which schedulers default to 5).
    public mutating func recover(
        _ resources: Resources, from framework: FrameworkID, on agent: AgentID,
        refuseSeconds: Double? = nil, now: Double = 0
    ) {
        guard let agentSlot = agentSlots[agent] else { return }
        if let held = agents[agentSlot].allocations[framework], !resources.isEmpty {
            let remaining = held - resources
            let returned = remaining.isEmpty ? held : held - remaining
            if remaining.isEmpty {
                agents[agentSlot].allocations[framework] = nil
                releaseHolding(framework, on: agent)
            } else {
                agents[agentSlot].allocations[framework] = remaining
            }
            agents[agentSlot].available += returned
            if let slot = frameworkSlots[framework] {
                ledger.add(returned, into: &frameworks[slot].allocated, sign: -1)
            }
        }
        if let refuseSeconds, refuseSeconds > 0, !resources.isEmpty, let slot = frameworkSlots[framework] {
            frameworks[slot].filters[agent, default: []]
                .append(OfferFilter(resources: resources, expires: now + refuseSeconds))
        }
    }

    /// Applies an operation's conversion (RESERVE, UNRESERVE, CREATE, DESTROY) on an agent: its total changes, and
    /// so does what `framework` holds there when the converted resources were its offer (nil: the agent's unallocated
    /// resources, as the operator API converts them). Scalar sums per name do not change, so neither do shares.
    public mutating func convert(_ consumed: Resources, to converted: Resources, on agent: AgentID, heldBy framework: FrameworkID?) {
        guard let slot = agentSlots[agent] else { return }
        agents[slot].total = agents[slot].total - consumed + converted
        agents[slot].hasGPUs = agents[slot].total.gpus > 0
        if let framework, let held = agents[slot].allocations[framework] {
            agents[slot].allocations[framework] = held - consumed + converted
        } else {
            agents[slot].available = agents[slot].available - consumed + converted
        }
    }

    private mutating func releaseHolding(_ framework: FrameworkID, on agent: AgentID) {
        holdings[framework]?.remove(agent)
        if holdings[framework]?.isEmpty == true { holdings[framework] = nil }
    }
}
