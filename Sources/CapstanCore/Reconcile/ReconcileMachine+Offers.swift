extension ReconcileMachine {
    /// Places what the plan launches on these offers, in `dependsOn` order, through one ``PlacementLedger``
    /// (the ledger `capstan diff` checks fit with, fed here by offers instead of the agents' free resources).
    /// Answers the kills the rollouts allow first (so launches never take an app above its surge ceiling),
    /// then one ACCEPT per agent used and one DECLINE for the rest.
    public mutating func offers(_ offers: [OfferedCapacity], now: ContinuousClock.Instant) -> [ReconcileAction] {
        var byAgent: [AgentID: AgentCapacity] = [:]
        var offerIDs: [AgentID: [OfferID]] = [:]
        for offer in offers {
            let agent = offer.agent
            agentHosts[agent.agentID] = AgentHost(hostname: agent.hostname, attributes: agent.attributes)
            offerIDs[agent.agentID, default: []].append(offer.offerID)
            if var merged = byAgent[agent.agentID] {
                merged.free = merged.free + agent.free
                byAgent[agent.agentID] = merged
            } else {
                byAgent[agent.agentID] = agent
            }
        }
        var launches: [AgentID: [LaunchRequest]] = [:]
        if seeded {
            let plan = plan()
            let items = Dictionary(plan.items.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            for item in plan.items { requestPlannedKills(item) }
            var ledger = PlacementLedger(agents: Array(byAgent.values))
            for name in launchOrder() {
                guard var memory = apps[name] else { continue }
                let wanted = launchesWanted(memory, item: items[name], now: now)
                guard wanted > 0 else { continue }
                let placed = place(&memory, count: wanted, on: &ledger, into: &launches)
                if placed < wanted {
                    let demand = InstanceDemand(memory.workload.spec)
                    memory.placementProblem = "\(wanted - placed) of \(wanted) instances found no offer with \(demand.description)"
                } else {
                    memory.placementProblem = nil
                }
                apps[name] = memory
            }
        }
        var actions = drainKills()
        var declined: [OfferID] = []
        for agent in offerIDs.keys.sorted() {
            let ids = offerIDs[agent] ?? []
            if let requests = launches[agent], !requests.isEmpty {
                actions.append(.accept(offers: ids, launches: requests))
            } else {
                declined += ids
            }
        }
        if !declined.isEmpty {
            let busy = seeded && wantsOffers(now: now)
            if !busy { declinedForLong = true }
            actions.append(.decline(offers: declined, refuseSeconds: busy ? 1 : configuration.declineSeconds))
        }
        return actions
    }

    /// Whether any app has instances to launch now.
    mutating func wantsOffers(now: ContinuousClock.Instant) -> Bool {
        let plan = plan()
        return plan.items.contains { item in
            guard let memory = apps[item.name] else { return false }
            return launchesWanted(memory, item: item, now: now) > 0
        }
    }

    /// Places up to `count` instances of an app on the ledger, honouring its constraints against the values its
    /// live tasks already use, and tracks each as a pending task. Returns how many were placed.
    private mutating func place(
        _ memory: inout AppMemory, count: Int, on ledger: inout PlacementLedger, into launches: inout [AgentID: [LaunchRequest]]
    ) -> Int {
        let workload = memory.workload
        let demand = InstanceDemand(workload.spec)
        let matcher = ConstraintMatcher(workload.spec.constraints)
        var used = ConstraintUsage()
        if !matcher.isEmpty {
            for task in liveTasks(of: workload.name) where !task.killRequested {
                if let host = agentHosts[task.observed.agentID] {
                    matcher.record(hostname: host.hostname, attributes: host.attributes, in: &used)
                }
            }
        }
        var placed = 0
        while placed < count, let placement = ledger.placeOne(demand, matcher: matcher, used: &used) {
            let id = makeTaskID(workload)
            launchCounter += 1
            var resources = workload.spec.resources.resources
            if !placement.ports.isEmpty {
                resources = resources + Resources([.ranges("ports", placement.ports.sorted().map { ValueRange(begin: $0, end: $0) })])
            }
            tasks[id] = ReconciledTask(
                observed: ObservedTask(
                    taskID: id, app: workload.name, kind: workload.kind, templateLabel: workload.templateLabel,
                    commit: memory.commit.short, phase: .pending, agentID: placement.agentID, resources: resources),
                hasHealthCheck: workload.spec.health != nil, launchOrder: launchCounter, stateName: "TASK_STAGING")
            launches[placement.agentID, default: []].append(LaunchRequest(
                taskID: id, workload: workload, commit: memory.commit, agentID: placement.agentID, ports: placement.ports))
            placed += 1
        }
        return placed
    }
}
