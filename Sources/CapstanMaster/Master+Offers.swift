import Logging
import CapstanAPI
import CapstanCore
import Foundation

extension Master {
    /// One allocation cycle: turns what the allocator hands out into offers and sends them.
    func allocate() {
        logWithheldAgents()
        let allocations = allocator.allocate(now: monotonicNow)
        guard !allocations.isEmpty else { return }
        var byFramework: [FrameworkID: [Offer]] = [:]
        for allocation in allocations {
            guard let agent = agents[allocation.agentID], agent.isReachable,
                frameworks[allocation.frameworkID]?.connection != nil
            else {
                allocator.recover(allocation.resources, from: allocation.frameworkID, on: allocation.agentID)
                continue
            }
            let offerID = makeOfferID()
            let executorIDs = frameworks[allocation.frameworkID]?.executors[allocation.agentID].map { Array($0.keys).sorted() } ?? []
            let offer = Offer(
                id: offerID, frameworkID: allocation.frameworkID, agentID: allocation.agentID,
                hostname: agent.info.hostname,
                url: MesosURL(scheme: "http", address: Address(hostname: agent.info.hostname, ip: agent.endpoint.host, port: Int32(agent.endpoint.port)), path: "/agent"),
                resources: allocation.resources.mesos.map { resource in
                    var resource = resource
                    resource.allocationInfo = .init(role: frameworks[allocation.frameworkID]?.role)
                    return resource
                },
                attributes: agent.info.attributes, executorIDs: executorIDs, unavailability: unavailability(of: agent),
                allocationInfo: .init(role: frameworks[allocation.frameworkID]?.role))
            offers[offerID] = OfferRecord(
                offer: offer, frameworkID: allocation.frameworkID, agentID: allocation.agentID,
                resources: allocation.resources, createdAt: .now)
            frameworks[allocation.frameworkID]?.offers.insert(offerID)
            byFramework[allocation.frameworkID, default: []].append(offer)
        }
        for (frameworkID, frameworkOffers) in byFramework {
            logger.debug("Sending offers", metadata: ["framework_id": "\(frameworkID)", "count": "\(frameworkOffers.count)"])
            send(SchedulerEvent(type: .offers, offers: .init(offers: frameworkOffers)), to: frameworkID)
        }
    }

    /// Removes an offer from the books without returning its resources.
    @discardableResult
    func takeOffer(_ offerID: OfferID) -> OfferRecord? {
        guard let record = offers.removeValue(forKey: offerID) else { return nil }
        frameworks[record.frameworkID]?.offers.remove(offerID)
        return record
    }

    /// Rescinds all offers of a framework (or on an agent), returning their resources to the allocator.
    func rescindOffers(of frameworkID: FrameworkID? = nil, on agentID: AgentID? = nil, notify: Bool = true) {
        let doomed = offers.values.filter {
            (frameworkID == nil || $0.frameworkID == frameworkID) && (agentID == nil || $0.agentID == agentID)
        }
        for record in doomed {
            takeOffer(record.offer.id)
            allocator.recover(record.resources, from: record.frameworkID, on: record.agentID)
            if notify {
                send(SchedulerEvent(type: .rescind, rescind: .init(offerID: record.offer.id)), to: record.frameworkID)
            }
        }
        if !doomed.isEmpty { requestAllocation() }
    }

    /// Rescinds offers older than the offer timeout (RESCIND to the framework). Their resources come back filtered
    /// for that framework for the default `refuse_seconds`, as if it had declined them: otherwise the allocator,
    /// which breaks ties by framework ID, could hand them straight back to the framework that does not answer.
    func expireOffers() {
        guard let timeout = configuration.offerTimeout else { return }
        let now = ContinuousClock.now
        var expired = 0
        for record in offers.values where now - record.createdAt > timeout {
            takeOffer(record.offer.id)
            allocator.recover(
                record.resources, from: record.frameworkID, on: record.agentID,
                refuseSeconds: Self.expiredOfferRefuseSeconds, now: monotonicNow)
            send(SchedulerEvent(type: .rescind, rescind: .init(offerID: record.offer.id)), to: record.frameworkID)
            logger.info(
                "Rescinding an offer held past the offer timeout",
                metadata: ["framework_id": "\(record.frameworkID)", "offer_id": "\(record.offer.id)"])
            expired += 1
        }
        if expired > 0 { requestAllocation() }
    }

    /// How long resources of an expired offer are kept from the framework that held it (Mesos' default refusal).
    static let expiredOfferRefuseSeconds = 5.0

    /// DECLINE: the offers' resources go back, filtered for this framework for `refuse_seconds` (default 5).
    func decline(_ frameworkID: FrameworkID, _ decline: SchedulerCall.Decline) {
        let refuse = decline.filters?.refuseSeconds ?? 5
        for offerID in decline.offerIDs {
            guard let record = offers[offerID], record.frameworkID == frameworkID else { continue }
            takeOffer(offerID)
            allocator.recover(record.resources, from: frameworkID, on: record.agentID, refuseSeconds: refuse, now: monotonicNow)
        }
        requestAllocation()
    }

    /// ACCEPT: validates the offers and each LAUNCH, starts valid tasks, and returns the rest with the filter.
    func accept(_ frameworkID: FrameworkID, _ accept: SchedulerCall.Accept) {
        guard let framework = frameworks[frameworkID] else { return }
        let tasks = accept.operations.flatMap { operation -> [TaskInfo] in
            switch operation.type {
            case .launch: operation.launch?.taskInfos ?? []
            case .launchGroup: operation.launchGroup?.taskGroup.tasks ?? []
            default: []
            }
        }

        // Validate the offers first: all must exist, belong to this framework, and be on one agent.
        var records: [OfferRecord] = []
        var offerProblem: String?
        if accept.offerIDs.isEmpty { offerProblem = "No offers were given" }
        for offerID in accept.offerIDs {
            guard let record = offers[offerID] else {
                offerProblem = offerProblem ?? "Offer \(offerID) is no longer valid"
                continue
            }
            if record.frameworkID != frameworkID {
                offerProblem = offerProblem ?? "Offer \(offerID) belongs to another framework"
                continue
            }
            if let first = records.first, first.agentID != record.agentID {
                offerProblem = offerProblem ?? "Offers span several agents (\(first.agentID) and \(record.agentID))"
            }
            records.append(record)
        }
        if Set(accept.offerIDs).count != accept.offerIDs.count {
            offerProblem = offerProblem ?? "The same offer appears more than once"
        }
        for record in records { takeOffer(record.offer.id) }

        if let offerProblem {
            for record in records { allocator.recover(record.resources, from: frameworkID, on: record.agentID) }
            let lostState: TaskState = framework.isPartitionAware ? .taskDropped : .taskLost
            for task in tasks {
                sendMasterUpdate(
                    to: frameworkID, taskID: task.taskID, agentID: task.agentID, state: lostState,
                    reason: .reasonInvalidOffers, message: "Task launched with invalid offers: \(offerProblem)")
            }
            requestAllocation()
            return
        }

        let agentID = records[0].agentID
        var remaining = records.reduce(Resources()) { $0 + $1.resources }
        for (index, operation) in accept.operations.enumerated() {
            switch operation.type {
            case .reserve, .unreserve, .create, .destroy:
                applyResourceOperation(operation, field: "accept.operations[\(index)]", frameworkID: frameworkID, agentID: agentID, remaining: &remaining)
            case .launch:
                for task in operation.launch?.taskInfos ?? [] {
                    launch(task, frameworkID: frameworkID, agentID: agentID, remaining: &remaining)
                }
            case .launchGroup:
                for task in operation.launchGroup?.taskGroup.tasks ?? [] {
                    sendMasterUpdate(
                        to: frameworkID, taskID: task.taskID, agentID: agentID, state: .taskError,
                        reason: .reasonTaskGroupInvalid, message: "LAUNCH_GROUP is not supported by this master yet")
                }
            default:
                logger.warning(
                    "Ignoring unsupported offer operation",
                    metadata: ["framework_id": "\(frameworkID)", "operation": "\(operation.type?.rawValue ?? "UNKNOWN")"])
            }
        }
        let refuse = accept.filters?.refuseSeconds ?? 5
        allocator.recover(remaining, from: frameworkID, on: agentID, refuseSeconds: refuse, now: monotonicNow)
        requestAllocation()
    }

    /// RESERVE, UNRESERVE, CREATE or DESTROY on an accepted offer: checked against what is left of it and the framework's
    /// role and principal, then applied to the offer, the agent's total and the allocator, and checkpointed on the
    /// agent. An invalid operation is dropped with a warning naming the field and the rule (Mesos 1.0 gives frameworks
    /// no other feedback); the operations after it still run.
    private func applyResourceOperation(
        _ operation: Offer.Operation, field: String, frameworkID: FrameworkID, agentID: AgentID, remaining: inout Resources
    ) {
        guard let framework = frameworks[frameworkID], let agent = agents[agentID] else { return }
        do {
            guard let resourceOperation = try ResourceOperation(mesos: operation, field: field) else { return }
            let conversion = try resourceOperation.conversion(
                available: remaining, role: framework.role, principal: framework.info.principal, agentTotal: agent.total, field: field)
            remaining = remaining - conversion.consumed + conversion.converted
            applyConversion(conversion, on: agentID, heldBy: frameworkID)
            logger.info(
                "Applied an offer operation",
                metadata: [
                    "framework_id": "\(frameworkID)", "agent_id": "\(agentID)", "operation": "\(resourceOperation.name)",
                    "resources": "\(conversion.converted)",
                ])
        } catch {
            logger.warning(
                "Dropped an invalid offer operation",
                metadata: ["framework_id": "\(frameworkID)", "agent_id": "\(agentID)", "operation": "\(operation.type?.rawValue ?? "")", "error": "\(error.message)"])
        }
    }

    /// A conversion on an agent: its total, the allocator, and the agent's checkpointed reservations and volumes.
    func applyConversion(_ conversion: ResourceOperation.Conversion, on agentID: AgentID, heldBy frameworkID: FrameworkID?) {
        guard var agent = agents[agentID] else { return }
        agent.total = agent.total - conversion.consumed + conversion.converted
        agents[agentID] = agent
        allocator.convert(conversion.consumed, to: conversion.converted, on: agentID, heldBy: frameworkID)
        let checkpointed = Resources(agent.total.filter { $0.reservation != nil || $0.volume != nil })
        agentLink.send(.checkpointResources(CheckpointResourcesMessage(resources: checkpointed.mesos)), to: agentID, at: agent.endpoint)
    }

    /// Validates one task against what is left of the accepted offers and, if valid, sends it to the agent.
    private func launch(_ info: TaskInfo, frameworkID: FrameworkID, agentID: AgentID, remaining: inout Resources) {
        guard var framework = frameworks[frameworkID], let agent = agents[agentID] else { return }
        let fail = { (message: String) in
            self.sendMasterUpdate(
                to: frameworkID, taskID: info.taskID, agentID: agentID, state: .taskError, reason: .reasonTaskInvalid,
                message: message)
        }
        let taskResources: Resources
        do {
            taskResources = try Resources(mesos: info.resources)
        } catch {
            return fail("Task \(info.taskID) has invalid resources: \(error)")
        }
        if let problem = TaskValidation.problem(
            info, frameworkID: frameworkID, agentID: agentID, taskResources: taskResources,
            knownTaskIDs: framework.tasks, executors: framework.executors[agentID] ?? [:])
        {
            return fail(problem)
        }
        var needed = taskResources
        var newExecutor: ExecutorInfo?
        if let executor = info.executor, framework.executors[agentID]?[executor.executorID] == nil {
            newExecutor = executor
            needed += (try? Resources(mesos: executor.resources)) ?? Resources()
        }
        for volume in needed where volume.volume != nil && !remaining.contains(where: { $0 == volume }) {
            return fail("Task \(info.taskID) uses persistent volume '\(volume.volume?.id ?? "")' as '\(volume)', which is not offered whole")
        }
        guard remaining.contains(needed) else {
            return fail("Task \(info.taskID) uses more resources (\(needed)) than available in the offers (\(remaining))")
        }
        remaining -= needed

        var launched = info
        launched.agentID = agentID
        if var executor = newExecutor {
            executor.frameworkID = frameworkID
            framework.executors[agentID, default: [:]][executor.executorID] = executor
            launched.executor = executor
        }
        let task = MesosTask(
            name: info.name, taskID: info.taskID, frameworkID: frameworkID, executorID: info.executor?.executorID,
            agentID: agentID, state: .taskStaging, resources: info.resources, statuses: [], labels: info.labels,
            discovery: info.discovery, container: info.container, user: info.command?.user ?? framework.info.user,
            directory: MesosTask.sandboxAlias(
                agentID: agentID, frameworkID: frameworkID, executorID: info.executor?.executorID ?? ExecutorID(info.taskID.value)))
        framework.tasks[info.taskID] = TaskRecord(task: task, resources: needed)
        frameworks[frameworkID] = framework
        logger.info(
            "Launching task", metadata: ["framework_id": "\(frameworkID)", "task_id": "\(info.taskID)", "agent_id": "\(agentID)"])
        agentLink.send(.runTask(RunTaskMessage(framework: framework.info, task: launched)), to: agentID, at: agent.endpoint)
        publish(OperatorEvent(type: .taskAdded, taskAdded: .init(task: task)))
    }
}
