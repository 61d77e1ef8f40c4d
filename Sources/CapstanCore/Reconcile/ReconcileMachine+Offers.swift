extension ReconcileMachine {
    /// Places what the plan launches on these offers, in `dependsOn` order, through one ``PlacementLedger``
    /// (the ledger `capstan diff` checks fit with, fed here by offers instead of the agents' free resources).
    /// Answers the kills the rollouts allow first (so launches never take an app above its surge ceiling),
    /// then one ACCEPT per agent used and one DECLINE for the rest.
    public mutating func offers(_ offers: [OfferedCapacity], now: ContinuousClock.Instant) -> [ReconcileAction] {
        var byAgent: [AgentID: AgentCapacity] = [:]
        var offerIDs: [AgentID: [OfferID]] = [:]
        var offered = OfferedVolumes()
        for offer in offers {
            var agent = offer.agent
            agentHosts[agent.agentID] = AgentHost(hostname: agent.hostname, attributes: agent.attributes)
            offerIDs[agent.agentID, default: []].append(offer.offerID)
            for volume in ObservedVolume.found(in: agent.free, on: agent.agentID, role: configuration.role) {
                volumes[volume.id] = volume
                offered.add(volume)
            }
            agent.free = agent.free.withoutVolumes
            if var merged = byAgent[agent.agentID] {
                merged.free = merged.free + agent.free
                byAgent[agent.agentID] = merged
            } else {
                byAgent[agent.agentID] = agent
            }
        }
        var launches: [AgentID: [LaunchRequest]] = [:]
        var destroys: [AgentID: [Resource]] = [:]
        if seeded {
            let plan = plan()
            let items = Dictionary(plan.items.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            for item in plan.items { requestPlannedKills(item) }
            for planned in plan.volumes where planned.action == .destroy && planned.usedBy == nil {
                guard let volume = offered.take(planned.id) else { continue }
                destroys[volume.agentID, default: []].append(volume.resource)
                volumes[planned.id] = nil
            }
            var ledger = PlacementLedger(agents: Array(byAgent.values))
            for name in launchOrder() {
                guard var memory = apps[name] else { continue }
                var wanted = launchesWanted(memory, item: items[name], now: now)
                if !VolumeSlots.declared(memory.workload.spec).isEmpty {
                    // A replacement waits for the task it replaces to end and free its slot: not a placement problem.
                    wanted = min(wanted, freeSlots(memory))
                }
                guard wanted > 0 else { continue }
                let (placed, problem) = place(&memory, count: wanted, on: &ledger, offered: &offered, into: &launches)
                if placed < wanted {
                    memory.placementProblem = problem ?? "\(wanted - placed) of \(wanted) instances found no offer with \(InstanceDemand(memory.workload.spec).description)"
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
            let requests = launches[agent] ?? [], destroy = destroys[agent] ?? []
            if !requests.isEmpty || !destroy.isEmpty {
                actions.append(.accept(offers: ids, launches: requests, destroy: destroy))
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

    /// Whether any app has instances to launch now, or a volume waits to be destroyed.
    mutating func wantsOffers(now: ContinuousClock.Instant) -> Bool {
        let plan = plan()
        // A volume to destroy is destroyed on an offer that holds it.
        if plan.volumes.contains(where: { $0.action == .destroy && $0.usedBy == nil }) { return true }
        return plan.items.contains { item in
            guard let memory = apps[item.name] else { return false }
            return launchesWanted(memory, item: item, now: now) > 0
        }
    }

    /// Places up to `count` instances of an app on the ledger, honouring its constraints against the values its
    /// live tasks already use, and tracks each as a pending task. Returns how many were placed and, for an app with
    /// persistent volumes, why the first that found no place did not.
    private mutating func place(
        _ memory: inout AppMemory, count: Int, on ledger: inout PlacementLedger, offered: inout OfferedVolumes,
        into launches: inout [AgentID: [LaunchRequest]]
    ) -> (Int, String?) {
        if !VolumeSlots.declared(memory.workload.spec).isEmpty {
            return placeWithVolumes(&memory, count: count, on: &ledger, offered: &offered, into: &launches)
        }
        let workload = memory.workload
        let demand = InstanceDemand(workload.spec)
        let matcher = ConstraintMatcher(workload.spec.constraints)
        var used = constraintUsage(of: workload.name, matcher)
        var placed = 0
        while placed < count, let placement = ledger.placeOne(demand, matcher: matcher, used: &used) {
            recordLaunch(of: memory, at: placement, into: &launches)
            placed += 1
        }
        return (placed, nil)
    }

    /// The values `matcher`'s constraints see on the agents of the app's live tasks that stay (none without constraints).
    private func constraintUsage(of app: AppName, _ matcher: ConstraintMatcher) -> ConstraintUsage {
        var used = ConstraintUsage()
        guard !matcher.isEmpty else { return used }
        for task in liveTasks(of: app) where !task.killRequested {
            if let host = agentHosts[task.observed.agentID] {
                matcher.record(hostname: host.hostname, attributes: host.attributes, in: &used)
            }
        }
        return used
    }

    /// Tracks one placed instance as a pending task and adds its launch: the workload's resources, the agent ports it
    /// took and, for a slot of an app with persistent volumes, the volumes it mounts (`newVolumes` among them are created
    /// with the launch).
    private mutating func recordLaunch(
        of memory: AppMemory, at placement: PlacementLedger.Placement, slot: Int? = nil, volumes: [Resource] = [],
        newVolumes: [Resource] = [], into launches: inout [AgentID: [LaunchRequest]]
    ) {
        let workload = memory.workload
        let id = makeTaskID(workload)
        launchCounter += 1
        var resources = workload.spec.resources.resources + Resources(volumes)
        if !placement.ports.isEmpty {
            resources = resources + Resources([.ranges("ports", placement.ports.sorted().map { ValueRange(begin: $0, end: $0) })])
        }
        tasks[id] = ReconciledTask(
            observed: ObservedTask(
                taskID: id, app: workload.name, kind: workload.kind, templateLabel: workload.templateLabel,
                commit: memory.commit.short, phase: .pending, agentID: placement.agentID, resources: resources, slot: slot),
            hasHealthCheck: workload.spec.health != nil, launchOrder: launchCounter, stateName: "TASK_STAGING")
        launches[placement.agentID, default: []].append(LaunchRequest(
            taskID: id, workload: workload, commit: memory.commit, agentID: placement.agentID, ports: placement.ports,
            slot: slot, volumes: volumes, newVolumes: newVolumes))
    }

    /// How many of an app's instance slots no live task holds.
    func freeSlots(_ memory: AppMemory) -> Int {
        VolumeSlots(workload: memory.workload, liveSlots: liveTasks(of: memory.name).compactMap(\.observed.slot), volumes: []).freeCount
    }

    /// ``place(_:count:on:offered:into:)`` for an app with persistent volumes: each instance takes its slot (the lowest
    /// free), and runs where the slot's volumes are, once they are offered (not while its previous task still holds
    /// them); a slot without volumes yet goes to any agent with room for them, and they are reserved and created there.
    private mutating func placeWithVolumes(
        _ memory: inout AppMemory, count: Int, on ledger: inout PlacementLedger, offered: inout OfferedVolumes,
        into launches: inout [AgentID: [LaunchRequest]]
    ) -> (Int, String?) {
        let workload = memory.workload
        let role = configuration.role
        guard role != Resource.unreservedRole else {
            return (0, "persistent volumes need the reconciler to subscribe with a role other than '*' (--role)")
        }
        let matcher = ConstraintMatcher(workload.spec.constraints)
        var used = constraintUsage(of: workload.name, matcher)
        // A task being killed still holds its slot's volumes: the slot is not free for another instance until it ends.
        var slots = VolumeSlots(
            workload: workload, liveSlots: liveTasks(of: workload.name).compactMap(\.observed.slot), volumes: Array(volumes.values))
        let base = InstanceDemand(workload.spec, volumes: false)
        var placed = 0
        var problem: String?
        for _ in 0..<count {
            guard let launch = slots.next() else {
                problem = problem ?? "waiting for the tasks being replaced to end: their slots' volumes are still in use"
                break
            }
            if let agent = launch.agentID, let waiting = launch.existing.first(where: { !offered.contains($0.id, on: agent) }) {
                problem = problem ?? "instance slot \(launch.slot) waits for its volume \(waiting.id) on agent \(agent) to be offered"
                continue
            }
            var need = base
            need.disk += launch.newVolumeMiB
            guard let placement = ledger.placeOne(need, matcher: matcher, used: &used, on: launch.agentID) else {
                problem = problem ?? ledger.whyNot(need, matcher: matcher, used: used, pinnedTo: launch.agentID, slot: launch.slot)
                continue
            }
            for volume in launch.existing { _ = offered.take(volume.id) }
            let reservation = ResourceReservation(principal: configuration.principal)
            let created = launch.create.map { declared in
                let id = AppVolumeID(app: workload.name, slot: launch.slot, key: declared.key)
                return ObservedVolume(id: id, agentID: placement.agentID, resource: Resource(
                    name: "disk", value: .scalar(declared.sizeMiB), role: role, reservation: reservation,
                    volume: PersistentVolume(
                        id: id.persistenceID, principal: configuration.principal, containerPath: AppVolumeID.sandboxPath(forPath: declared.path))))
            }
            for volume in created { volumes[volume.id] = volume }
            recordLaunch(
                of: memory, at: placement, slot: launch.slot, volumes: (launch.existing + created).map(\.resource),
                newVolumes: created.map(\.resource), into: &launches)
            placed += 1
        }
        return (placed, problem)
    }
}

/// The app volumes in one round of offers, by agent: each can go to one use (a launch or a DESTROY).
struct OfferedVolumes {
    private var byAgent: [AgentID: [AppVolumeID: ObservedVolume]] = [:]

    mutating func add(_ volume: ObservedVolume) { byAgent[volume.agentID, default: [:]][volume.id] = volume }

    func contains(_ id: AppVolumeID, on agent: AgentID) -> Bool { byAgent[agent]?[id] != nil }

    /// Takes a volume out of the round; nil when it was not offered (or is taken).
    mutating func take(_ id: AppVolumeID) -> ObservedVolume? {
        for agent in byAgent.keys {
            if let volume = byAgent[agent]?.removeValue(forKey: id) { return volume }
        }
        return nil
    }
}
