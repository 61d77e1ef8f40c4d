import Logging
import CapstanAPI
import CapstanCore
import Foundation

extension Master {
    /// Registers a new agent or re-registers a known one (after either side restarted or a partition healed).
    public func registerAgent(_ message: RegisterAgentMessage, principal: String? = nil) throws(CapstanError) -> AgentRegisteredMessage {
        let endpoint = try HostPort.parse(message.endpoint)
        try refuseIfDown(hostname: message.agentInfo.hostname, endpoint: endpoint)
        if let agentID = message.agentID { try agentID.checkPathSafe(field: "agent_id.value") }
        let total: Resources
        do {
            total = try Resources(mesos: message.agentInfo.resources)
        } catch {
            throw CapstanError(.invalidArgument, "Agent resources are invalid: \(error)")
        }
        if let agentID = message.agentID, let known = agents[agentID], known.principal != principal {
            throw CapstanError(
                .permissionDenied, "agent \(agentID) is registered under another principal; principal '\(principal ?? "")' cannot re-register it")
        }
        if let agentID = message.agentID, let admitted = recoveringAgents[agentID], admitted.principal != principal {
            throw CapstanError(
                .permissionDenied, "agent \(agentID) was admitted under another principal; principal '\(principal ?? "")' cannot re-register it")
        }
        let agentID = message.agentID ?? makeAgentID()
        var info = message.agentInfo
        info.id = agentID
        let now = wallNow
        let wasUnreachable = agents[agentID].map { !$0.isReachable } ?? false
        // What the registry holds for this agent already (from its last registration, or loaded at start).
        let previouslyAdmitted =
            recoveringAgents[agentID]
            ?? agents[agentID].map { RegisteredAgent(id: agentID, info: $0.info, endpoint: $0.endpoint.description, principal: $0.principal) }

        if var existing = agents[agentID] {
            existing.info = info
            existing.endpoint = endpoint
            existing.total = total
            existing.version = message.version
            existing.reregisteredAt = now
            existing.lastHeartbeat = .now
            existing.unreachableSince = nil
            agents[agentID] = existing
            // Offers made from the agent's old info go: their resources would otherwise be offered twice, and a
            // changed attribute (its networks) reaches frameworks only in new offers.
            rescindOffers(on: agentID)
            allocator.removeAgent(agentID)
            logger.info("Agent re-registered", metadata: ["agent_id": "\(agentID)", "endpoint": "\(endpoint)"])
        } else {
            agents[agentID] = AgentRecord(
                id: agentID, info: info, endpoint: endpoint, total: total, version: message.version, registeredAt: now,
                reregisteredAt: message.agentID == nil ? nil : now, lastHeartbeat: .now, unreachableSince: nil,
                principal: principal)
            logger.info(
                message.agentID == nil ? "Agent registered" : "Agent re-registered with a master that did not know it",
                metadata: ["agent_id": "\(agentID)", "endpoint": "\(endpoint)", "resources": "\(total)"])
        }

        // Learn what the agent runs: frameworks the master may not know (it restarted) and their tasks.
        let frameworkInfos = Dictionary(message.frameworks.compactMap { info in info.id.map { ($0, info) } }, uniquingKeysWith: { a, _ in a })
        var used: [FrameworkID: Resources] = [:]
        var doomed: [(FrameworkID, TaskID)] = []
        for task in message.tasks where !task.state.isTerminal {
            let frameworkID = task.frameworkID
            if frameworks[frameworkID] == nil {
                guard let info = frameworkInfos[frameworkID] else { continue }
                var record = FrameworkRecord(id: frameworkID, info: info, connection: nil, registeredAt: now)
                record.recovered = true
                record.unregisteredAt = now
                record.failoverDeadline = .now + .nanoseconds(Int64(min(info.failoverTimeout ?? 0, 1e9) * 1e9))
                frameworks[frameworkID] = record
                registry?.submit(.recordFramework(RegisteredFramework(id: frameworkID, info: info, principal: nil)))
                allocator.addFramework(frameworkID, role: record.role, active: false, acceptsGPUs: record.acceptsGPUs)
            }
            guard var framework = frameworks[frameworkID] else { continue }
            let resources = (try? Resources(mesos: task.resources)) ?? Resources()
            if wasUnreachable && !framework.isPartitionAware {
                // The framework was told TASK_LOST; the task must not come back to life behind its back.
                doomed.append((frameworkID, task.taskID))
                continue
            }
            var record = framework.tasks[task.taskID] ?? TaskRecord(task: task, resources: resources)
            record.task.state = task.state
            record.task.agentID = agentID
            record.task.directory = MesosTask.sandboxAlias(
                agentID: agentID, frameworkID: frameworkID, executorID: task.executorID ?? ExecutorID(task.taskID.value))
            record.resourcesRecovered = false
            framework.tasks[task.taskID] = record
            if let executorID = task.executorID, let executor = message.executors.first(where: { $0.executorID == executorID }) {
                framework.executors[agentID, default: [:]][executorID] = executor
            }
            frameworks[frameworkID] = framework
            used[frameworkID, default: Resources()] += resources
        }
        removedAgents.remove(agentID)
        if recoveringAgents.removeValue(forKey: agentID) != nil {
            logger.info("Agent of the registry re-registered", metadata: ["agent_id": "\(agentID)", "still_recovering": "\(recoveringAgents.count)"])
        }
        let admitted = RegisteredAgent(id: agentID, info: info, endpoint: endpoint.description, principal: principal)
        if admitted != previouslyAdmitted { registry?.submit(.admitAgent(admitted)) }  // an unchanged agent costs no write
        agentLink.setPrincipal(principal, for: agentID)
        allocator.addAgent(agentID, total: total, allocated: used)
        for acknowledgement in heldAcknowledgements.messages(for: agentID) {
            agentLink.send(.acknowledge(acknowledgement), to: agentID, at: endpoint)
        }
        for (frameworkID, taskID) in doomed {
            agentLink.send(.killTask(KillTaskMessage(frameworkID: frameworkID, taskID: taskID)), to: agentID, at: endpoint)
        }
        publish(OperatorEvent(type: .agentAdded, agentAdded: .init(agent: operatorAgent(agentID))))
        requestAllocation()
        return AgentRegisteredMessage(
            agentID: agentID, masterID: id, heartbeatIntervalSeconds: configuration.agentPingTimeout.seconds / 3)
    }

    /// An agent's heartbeat. Unknown or unreachable agents are told to re-register (notFound).
    public func heartbeat(_ message: AgentHeartbeatMessage, principal: String? = nil) throws(CapstanError) {
        guard var agent = agents[message.agentID], agent.isReachable else {
            throw CapstanError(.notFound, "Agent \(message.agentID) is not registered with this master; re-register")
        }
        try requireAgent(message.agentID, speaksAs: principal)
        agent.lastHeartbeat = .now
        agents[message.agentID] = agent
    }

    /// Once the re-registration window after a restart has passed, the registry's agents that did not come back are
    /// removed, as Mesos does: from the registry, and every framework gets a FAILURE event for each (their tasks,
    /// which the master never learned, then reconcile as lost).
    func expireRecoveringAgents() {
        guard !recoveringAgents.isEmpty, ContinuousClock.now >= recoveryDeadline else { return }
        let gone = recoveringAgents.keys.sorted()
        recoveringAgents.removeAll()
        for agentID in gone {
            logger.warning(
                "Agent did not re-register within --agent-reregister-timeout; removing it",
                metadata: ["agent_id": "\(agentID)", "agent_reregister_timeout": "\(configuration.agentReregisterTimeout)"])
            registry?.submit(.removeAgent(agentID))
            removedAgents.insert(agentID)
            for frameworkID in frameworks.keys {
                send(SchedulerEvent(type: .failure, failure: .init(agentID: agentID)), to: frameworkID)
            }
            publish(OperatorEvent(type: .agentRemoved, agentRemoved: .init(agentID: agentID)))
        }
    }

    /// Marks agents that missed too many heartbeats as unreachable.
    func checkAgentHealth() {
        let limit = configuration.agentPingTimeout * configuration.maxAgentPingTimeouts
        let now = ContinuousClock.now
        for agent in agents.values where agent.isReachable && now - agent.lastHeartbeat > limit {
            markUnreachable(agent.id)
        }
    }

    /// The agent stopped heartbeating: no more offers from it; its tasks are reported lost (or unreachable to
    /// partition-aware frameworks); every framework gets a FAILURE event.
    func markUnreachable(_ agentID: AgentID) {
        guard var agent = agents[agentID], agent.isReachable else { return }
        agent.unreachableSince = wallNow
        agents[agentID] = agent
        logger.warning("Agent is unreachable: it missed its heartbeats", metadata: ["agent_id": "\(agentID)"])
        rescindOffers(on: agentID)
        allocator.deactivateAgent(agentID)
        for (frameworkID, framework) in frameworks {
            let affected = framework.tasks.values.filter { $0.task.agentID == agentID && !$0.state.isTerminal }
            for record in affected {
                let state: TaskState = framework.isPartitionAware ? .taskUnreachable : .taskLost
                let status = TaskStatus(
                    taskID: record.task.taskID, state: state, message: "Agent \(agentID) is unreachable",
                    source: .sourceMaster, reason: .reasonAgentRemoved, agentID: agentID,
                    executorID: record.task.executorID, timestamp: wallNow, unreachableTime: TimeInfo(nanoseconds: Int64(wallNow * 1e9)))
                frameworks[frameworkID]?.tasks[record.task.taskID]?.task.state = state
                frameworks[frameworkID]?.tasks[record.task.taskID]?.latestStatus = status
                frameworks[frameworkID]?.tasks[record.task.taskID]?.resourcesRecovered = true
                publish(OperatorEvent(type: .taskUpdated, taskUpdated: .init(frameworkID: frameworkID, status: status, state: state)))
                send(SchedulerEvent(type: .update, update: .init(status: status)), to: frameworkID)
                if state.isTerminal { completeTask(frameworkID, record.task.taskID) }
            }
            send(SchedulerEvent(type: .failure, failure: .init(agentID: agentID)), to: frameworkID)
        }
        publish(OperatorEvent(type: .agentRemoved, agentRemoved: .init(agentID: agentID)))
    }

    /// With agent authentication on, only the principal an agent registered with may speak for it.
    func requireAgent(_ agentID: AgentID?, speaksAs principal: String?) throws(CapstanError) {
        guard configuration.authentication.agentCredentials != nil else { return }
        guard let agentID, let agent = agents[agentID], agent.principal == principal else {
            throw CapstanError(
                .permissionDenied, "principal '\(principal ?? "")' does not speak for agent \(agentID.map(\.value) ?? "(none)")")
        }
    }
}
