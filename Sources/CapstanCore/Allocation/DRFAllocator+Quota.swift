/// Role weights and quota (Mesos' UPDATE_WEIGHTS, SET_QUOTA and REMOVE_QUOTA), as the Mesos 1.0 allocator applies
/// them: a role with quota is offered resources first, ahead of every role without quota, until what its
/// frameworks hold covers its guarantee; then it sits out the fair-share stage. Roles without quota are offered
/// only what leaves enough unreserved resources in the cluster to meet the guarantees still unmet.
extension DRFAllocator {
    // MARK: Weights

    /// Sets the weight of each listed role (1 is the default; others keep theirs). Takes effect in the next cycle.
    public mutating func updateWeights(_ weights: [String: Double]) {
        for (role, weight) in weights { config.roleWeights[role] = weight }
    }

    /// The weight a role is sorted by.
    public func weight(of role: String) -> Double { config.weight(of: role) }

    // MARK: Quota

    /// Guarantees `guarantee` (its scalars) to `role`, replacing any earlier quota of the role.
    public mutating func setQuota(_ role: String, guarantee: Resources) {
        ledger.register(guarantee)
        quotas[role] = guarantee
    }

    /// Removes a role's quota; its frameworks take part in fair sharing again.
    public mutating func removeQuota(_ role: String) {
        quotas[role] = nil
    }

    /// The quota guarantee of each role that has one.
    public var quotaGuarantees: [String: Resources] { quotas }

    /// The quota stage: each agent's resources go to the roles with quota whose guarantee is not met yet, in order
    /// of weighted share, and within a role to its first eligible framework.
    mutating func allocateQuotas(queues: inout [RoleQueue], agentOrder: [Int], now: Double, offers: inout [Allocation]) {
        var order = queues.indices.filter { quotas[queues[$0].role] != nil }
        guard !order.isEmpty else { return }
        order.sort { isOrdered(queues[$0], before: queues[$1]) }
        var guarantees: [String: [Double]] = [:]
        for (role, guarantee) in quotas {
            var vector: [Double] = []
            ledger.add(guarantee, into: &vector, sign: 1)
            guarantees[role] = vector
        }
        for agentSlot in agentOrder {
            guard agents[agentSlot].active, isAllocatable(agents[agentSlot].available) else { continue }
            for queueIndex in order {
                let role = queues[queueIndex].role
                guard let guarantee = guarantees[role], !Self.covers(queues[queueIndex].allocated, guarantee) else { continue }
                let offer = agents[agentSlot].available.allocatable(to: role)
                guard isAllocatable(offer),
                    let member = firstEligible(in: queues[queueIndex], agent: agentSlot, offer: offer, now: now)
                else { continue }
                let frameworkSlot = queues[queueIndex].members[member]
                grant(offer, to: frameworkSlot, on: agentSlot, queue: &queues[queueIndex])
                offers.append(Allocation(frameworkID: frameworks[frameworkSlot].id, agentID: agents[agentSlot].id, resources: offer))
                reorder(member: member, in: &queues[queueIndex])
                queues[queueIndex].share = ledger.dominantShare(of: queues[queueIndex].allocated) / queues[queueIndex].weight
                reorder(role: queueIndex, in: &order, queues: queues)
                if !isAllocatable(agents[agentSlot].available) { break }
            }
        }
    }

    /// What the fair-share stage must leave unoffered: the unmet part of every guarantee (roles with quota but no
    /// frameworks included), against the unreserved resources free on active agents.
    func quotaHeadroom(queues: [RoleQueue]) -> QuotaHeadroom {
        var allocatedByRole: [String: [Double]] = [:]
        for queue in queues where quotas[queue.role] != nil { allocatedByRole[queue.role] = queue.allocated }
        var unmet = [Double](repeating: 0, count: ledger.names.count)
        for (role, guarantee) in quotas {
            var vector: [Double] = []
            ledger.add(guarantee, into: &vector, sign: 1)
            if let allocated = allocatedByRole[role] { ledger.add(allocated, into: &vector, sign: -1) }
            ledger.add(vector, into: &unmet, sign: 1)
        }
        var free = [Double](repeating: 0, count: ledger.names.count)
        for agent in agents where agent.active { ledger.add(agent.available.unreserved, into: &free, sign: 1) }
        return QuotaHeadroom(unmet: unmet, free: free)
    }

    /// Whether `allocated` holds at least `guarantee` of every scalar.
    static func covers(_ allocated: [Double], _ guarantee: [Double]) -> Bool {
        for slot in guarantee.indices where guarantee[slot] > 0 {
            if slot >= allocated.count || allocated[slot] + 1e-9 < guarantee[slot] { return false }
        }
        return true
    }
}

/// The unreserved resources the fair-share stage of one cycle may still offer without eating into unmet quota.
struct QuotaHeadroom {
    /// Unmet guarantees, summed over roles, by ``ScalarLedger`` slot.
    var unmet: [Double]
    /// Unreserved resources free on active agents, by slot.
    var free: [Double]

    /// `offer` with each unreserved scalar cut to what may be offered (free less unmet); reserved entries, and
    /// scalars no quota names, pass unchanged.
    func admit(_ offer: Resources, ledger: ScalarLedger) -> Resources {
        var entries: [Resource] = []
        var changed = false
        for entry in offer.entries {
            guard entry.role == Resource.unreservedRole, case .scalar(let quantity) = entry.value,
                let slot = ledger.slot(of: entry.name), slot < unmet.count, unmet[slot] > 0
            else {
                entries.append(entry)
                continue
            }
            let allowed = max(0, ScalarFormat.rounded(free[slot] - unmet[slot]))
            changed = true
            if allowed <= 0 { continue }
            var cut = entry
            cut.value = .scalar(min(quantity, allowed))
            entries.append(cut)
        }
        return changed ? Resources(entries) : offer
    }

    /// Counts `offer`'s unreserved scalars as offered.
    mutating func take(_ offer: Resources, ledger: ScalarLedger) {
        ledger.add(offer.unreserved, into: &free, sign: -1)
    }
}

extension DRFAllocator {
    /// The weights set for roles (by `--weights` or UPDATE_WEIGHTS); roles not listed weigh 1.
    public var roleWeights: [String: Double] { config.roleWeights }
}
