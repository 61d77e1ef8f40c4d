/// One allocation cycle.
extension DRFAllocator {
    /// A role's frameworks, kept sorted by (dominant share, ID) during a cycle.
    struct RoleQueue {
        let role: String
        let weight: Double
        /// Framework slots, lowest share first.
        var members: [Int]
        var shares: [Double]
        /// The role's allocated scalars (sum over its frameworks).
        var allocated: [Double]
        /// The weighted dominant share of the role.
        var share: Double
    }

    /// Runs one allocation cycle and returns the new allocations (offers to make). They count as
    /// allocated to their frameworks until recovered.
    ///
    /// Agents are visited in a seeded shuffled order; deactivated agents are skipped. For each
    /// agent, roles are tried in order of weighted dominant share and frameworks in order of
    /// dominant share (ties by name, then ID). The first framework that is active, not
    /// suppressed and not filtered gets everything on the agent its role may use, provided
    /// that holds at least the minimum CPUs or memory. What remains (resources reserved for
    /// other roles) goes on to the next roles in the same way.
    public mutating func allocate(now: Double) -> [Allocation] {
        guard !agents.isEmpty, frameworks.contains(where: { $0.active && !$0.suppressed }) else { return [] }
        var queues = makeQueues()
        var agentOrder = Array(agents.indices)
        generator.shuffle(&agentOrder)

        var offers: [Allocation] = []
        // With quotas, roles with quota are served first up to their guarantee and then sit out the fair-share
        // stage, whose offers leave enough unreserved resources for the guarantees still unmet (Mesos 1.0).
        var headroom: QuotaHeadroom?
        if !quotas.isEmpty {
            allocateQuotas(queues: &queues, agentOrder: agentOrder, now: now, offers: &offers)
            headroom = quotaHeadroom(queues: queues)
        }
        var roleOrder = quotas.isEmpty ? Array(queues.indices) : queues.indices.filter { quotas[queues[$0].role] == nil }
        roleOrder.sort { isOrdered(queues[$0], before: queues[$1]) }

        var touched: [(queue: Int, member: Int)] = []
        for agentSlot in agentOrder {
            guard agents[agentSlot].active, isAllocatable(agents[agentSlot].available) else { continue }
            touched.removeAll(keepingCapacity: true)
            for queueIndex in roleOrder {
                var offer = agents[agentSlot].available.allocatable(to: queues[queueIndex].role)
                if headroom != nil { offer = headroom!.admit(offer, ledger: ledger) }
                guard isAllocatable(offer),
                    let member = firstEligible(in: queues[queueIndex], agent: agentSlot, offer: offer, now: now)
                else { continue }
                let frameworkSlot = queues[queueIndex].members[member]
                grant(offer, to: frameworkSlot, on: agentSlot, queue: &queues[queueIndex])
                offers.append(
                    Allocation(
                        frameworkID: frameworks[frameworkSlot].id, agentID: agents[agentSlot].id, resources: offer))
                touched.append((queueIndex, member))
                headroom?.take(offer, ledger: ledger)
                if !isAllocatable(agents[agentSlot].available) { break }
            }
            for (queueIndex, member) in touched {
                reorder(member: member, in: &queues[queueIndex])
                let queue = queues[queueIndex]
                queues[queueIndex].share = ledger.dominantShare(of: queue.allocated) / queue.weight
                reorder(role: queueIndex, in: &roleOrder, queues: queues)
            }
        }
        return offers
    }

    /// Whether `resources` is worth offering: Mesos' `MIN_CPUS` or `MIN_MEM`.
    @inline(__always)
    func isAllocatable(_ resources: Resources) -> Bool {
        if resources.isEmpty { return false }
        var cpus = 0.0
        var mem = 0.0
        for entry in resources.entries {
            guard case .scalar(let quantity) = entry.value else { continue }
            if entry.name == "cpus" { cpus += quantity } else if entry.name == "mem" { mem += quantity }
        }
        return cpus >= config.minimumAllocatableCPUs || mem >= config.minimumAllocatableMem
    }

    /// Groups frameworks by role and sorts each group by share.
    func makeQueues() -> [RoleQueue] {
        var byRole: [String: [Int]] = [:]
        for slot in frameworks.indices { byRole[frameworks[slot].role, default: []].append(slot) }
        var queues: [RoleQueue] = []
        queues.reserveCapacity(byRole.count)
        for (role, slots) in byRole {
            var allocated: [Double] = []
            for slot in slots { ledger.add(frameworks[slot].allocated, into: &allocated, sign: 1) }
            let weight = config.weight(of: role)
            let ranked = slots.map { (slot: $0, share: ledger.dominantShare(of: frameworks[$0].allocated)) }
                .sorted { isOrdered($0.share, frameworks[$0.slot].id, before: $1.share, frameworks[$1.slot].id) }
            queues.append(
                RoleQueue(
                    role: role, weight: weight, members: ranked.map(\.slot), shares: ranked.map(\.share),
                    allocated: allocated, share: ledger.dominantShare(of: allocated) / weight))
        }
        return queues
    }

    @inline(__always)
    func isOrdered(_ lhs: RoleQueue, before rhs: RoleQueue) -> Bool {
        lhs.share != rhs.share ? lhs.share < rhs.share : lhs.role < rhs.role
    }

    @inline(__always)
    private func isOrdered(
        _ lhsShare: Double, _ lhsID: FrameworkID, before rhsShare: Double, _ rhsID: FrameworkID
    ) -> Bool {
        lhsShare != rhsShare ? lhsShare < rhsShare : lhsID.value < rhsID.value
    }

    /// The position in `queue` of the first framework that may receive `offer` on the agent.
    mutating func firstEligible(
        in queue: RoleQueue, agent agentSlot: Int, offer: Resources, now: Double
    ) -> Int? {
        for (position, slot) in queue.members.enumerated() {
            guard frameworks[slot].active, !frameworks[slot].suppressed else { continue }
            if agents[agentSlot].hasGPUs && !frameworks[slot].acceptsGPUs { continue }
            if !frameworks[slot].filters.isEmpty,
                isFiltered(slot, agent: agents[agentSlot].id, offer: offer, now: now)
            {
                continue
            }
            return position
        }
        return nil
    }

    /// Whether an unexpired filter of the framework on the agent covers `offer`; drops expired ones.
    private mutating func isFiltered(_ slot: Int, agent: AgentID, offer: Resources, now: Double) -> Bool {
        guard var filters = frameworks[slot].filters[agent] else { return false }
        filters.removeAll { $0.expires <= now }
        frameworks[slot].filters[agent] = filters.isEmpty ? nil : filters
        return filters.contains { $0.resources.contains(offer) }
    }

    /// Moves `offer` from the agent's available pool to the framework.
    mutating func grant(_ offer: Resources, to frameworkSlot: Int, on agentSlot: Int, queue: inout RoleQueue) {
        let framework = frameworks[frameworkSlot].id
        agents[agentSlot].allocations[framework, default: Resources()] += offer
        agents[agentSlot].available -= offer
        ledger.add(offer, into: &frameworks[frameworkSlot].allocated, sign: 1)
        ledger.add(offer, into: &queue.allocated, sign: 1)
        holdings[framework, default: []].insert(agents[agentSlot].id)
    }

    /// Re-sorts one framework in its queue after its share grew (it only moves back).
    func reorder(member position: Int, in queue: inout RoleQueue) {
        let slot = queue.members[position]
        let share = ledger.dominantShare(of: frameworks[slot].allocated)
        let id = frameworks[slot].id
        var target = position
        while target + 1 < queue.members.count,
            !isOrdered(share, id, before: queue.shares[target + 1], frameworks[queue.members[target + 1]].id)
        {
            queue.members[target] = queue.members[target + 1]
            queue.shares[target] = queue.shares[target + 1]
            target += 1
        }
        queue.members[target] = slot
        queue.shares[target] = share
    }

    /// Re-sorts one role after its share grew (it only moves back).
    func reorder(role queueIndex: Int, in order: inout [Int], queues: [RoleQueue]) {
        guard var position = order.firstIndex(of: queueIndex) else { return }
        while position + 1 < order.count, !isOrdered(queues[queueIndex], before: queues[order[position + 1]]) {
            order[position] = order[position + 1]
            position += 1
        }
        order[position] = queueIndex
    }
}
