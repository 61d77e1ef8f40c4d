import Logging
import CapstanAPI
import CapstanCore
import Foundation

extension Master {
    /// Dispatches a non-SUBSCRIBE scheduler call after checking the stream.
    public func handle(_ call: SchedulerCall, streamID: String?, principal: String? = nil) throws(CapstanError) {
        let frameworkID = try authorize(call.frameworkID, streamID: streamID, principal: principal)
        switch call.type {
        case .subscribe:
            throw CapstanError(.invalidArgument, "SUBSCRIBE must be sent on a new connection")
        case .teardown:
            logger.info("Framework asked for teardown", metadata: ["framework_id": "\(frameworkID)"])
            removeFramework(frameworkID)
        case .accept:
            accept(frameworkID, try require(call.accept, "accept"))
        case .decline:
            decline(frameworkID, try require(call.decline, "decline"))
        case .revive:
            allocator.revive(frameworkID)
            frameworks[frameworkID]?.suppressed = false
            requestAllocation()
        case .suppress:
            allocator.suppress(frameworkID)
            frameworks[frameworkID]?.suppressed = true
        case .kill:
            kill(frameworkID, try require(call.kill, "kill"))
        case .acknowledge:
            try acknowledge(frameworkID, try require(call.acknowledge, "acknowledge"))
        case .reconcile:
            reconcile(frameworkID, call.reconcile ?? .init(tasks: []))
        case .message:
            let message = try require(call.message, "message")
            guard let agent = agents[message.agentID] else {
                throw CapstanError(.invalidArgument, "Agent \(message.agentID) in 'message.agent_id' is unknown")
            }
            agentLink.send(
                .frameworkMessage(
                    FrameworkExecutorMessage(
                        frameworkID: frameworkID, executorID: message.executorID, agentID: message.agentID, data: message.data)),
                to: message.agentID, at: agent.endpoint)
        case .shutdown:
            let shutdown = try require(call.shutdown, "shutdown")
            if let agent = agents[shutdown.agentID] {
                agentLink.send(
                    .shutdownExecutor(ShutdownMessage(frameworkID: frameworkID, executorID: shutdown.executorID)),
                    to: shutdown.agentID, at: agent.endpoint)
            }
        case .acceptInverseOffers:
            answerInverseOffers(frameworkID, try require(call.acceptInverseOffers, "accept_inverse_offers"), accept: true)
        case .declineInverseOffers:
            answerInverseOffers(frameworkID, try require(call.declineInverseOffers, "decline_inverse_offers"), accept: false)
        case .request:
            break
        default:
            throw CapstanError(.invalidArgument, "Call type \(call.type?.rawValue ?? "UNKNOWN") is not supported")
        }
    }

    private func require<T>(_ value: T?, _ field: String) throws(CapstanError) -> T {
        guard let value else { throw CapstanError(.invalidArgument, "Expecting '\(field)' to be present") }
        return value
    }

    /// KILL: forwards to the agent; an unknown task gets a TASK_LOST (or TASK_UNKNOWN when partition-aware) update.
    func kill(_ frameworkID: FrameworkID, _ kill: SchedulerCall.Kill) {
        guard let framework = frameworks[frameworkID] else { return }
        guard let record = framework.tasks[kill.taskID], !record.state.isTerminal else {
            if framework.tasks[kill.taskID] == nil {
                sendMasterUpdate(
                    to: frameworkID, taskID: kill.taskID, agentID: kill.agentID,
                    state: framework.isPartitionAware ? .taskUnknown : .taskLost, reason: .reasonReconciliation,
                    message: "Attempted to kill an unknown task")
            }
            return
        }
        guard let agent = agents[record.task.agentID] else { return }
        logger.info("Killing task", metadata: ["framework_id": "\(frameworkID)", "task_id": "\(kill.taskID)"])
        agentLink.send(
            .killTask(KillTaskMessage(frameworkID: frameworkID, taskID: kill.taskID, killPolicy: kill.killPolicy)),
            to: agent.id, at: agent.endpoint)
    }

    /// ACKNOWLEDGE: forwarded to the agent's status update manager; a terminal, acknowledged task is completed.
    /// For an agent the master does not know (it has not re-registered since the master restarted) the call is
    /// accepted and the acknowledgement held until the agent registers (``HeldAcknowledgements``).
    func acknowledge(_ frameworkID: FrameworkID, _ ack: SchedulerCall.Acknowledge) throws(CapstanError) {
        guard let agent = agents[ack.agentID] else {
            heldAcknowledgements.hold(.init(frameworkID: frameworkID, taskID: ack.taskID, uuid: ack.uuid), for: ack.agentID)
            logger.info(
                "Holding an acknowledgement until its agent registers",
                metadata: ["framework_id": "\(frameworkID)", "task_id": "\(ack.taskID)", "agent_id": "\(ack.agentID)"])
            return
        }
        if let record = frameworks[frameworkID]?.tasks[ack.taskID], record.state.isTerminal,
            record.task.statusUpdateUUID == ack.uuid
        {
            completeTask(frameworkID, ack.taskID)
        }
        agentLink.send(
            .acknowledge(AcknowledgeMessage(frameworkID: frameworkID, taskID: ack.taskID, uuid: ack.uuid)),
            to: ack.agentID, at: agent.endpoint)
    }

    /// Moves a terminal task to the framework's completed list.
    func completeTask(_ frameworkID: FrameworkID, _ taskID: TaskID) {
        guard var framework = frameworks[frameworkID], let record = framework.tasks.removeValue(forKey: taskID) else { return }
        if !record.resourcesRecovered {
            allocator.recover(record.resources, from: frameworkID, on: record.task.agentID)
            requestAllocation()
        }
        framework.completedTasks.append(record.task)
        let overflow = framework.completedTasks.count - configuration.maxCompletedTasksPerFramework
        if overflow > 0 { framework.completedTasks.removeFirst(overflow) }
        frameworks[frameworkID] = framework
    }

    /// RECONCILE: explicit (the listed tasks) or implicit (empty list: all the framework's tasks).
    func reconcile(_ frameworkID: FrameworkID, _ reconcile: SchedulerCall.Reconcile) {
        guard let framework = frameworks[frameworkID] else { return }
        if reconcile.tasks.isEmpty {
            for record in framework.tasks.values.sorted(by: { $0.task.taskID < $1.task.taskID }) {
                sendReconciliation(frameworkID, record)
            }
            return
        }
        for entry in reconcile.tasks {
            if let record = framework.tasks[entry.taskID] {
                sendReconciliation(frameworkID, record)
            } else if let done = framework.completedTasks.last(where: { $0.taskID == entry.taskID }) {
                let state = done.state
                sendMasterUpdate(
                    to: frameworkID, taskID: entry.taskID, agentID: done.agentID, state: state,
                    reason: .reasonReconciliation, message: "Reconciliation: task is complete")
            } else if let agentID = entry.agentID, recoveringAgents[agentID] != nil {
                // Its agent has not re-registered since this master started: the task may well be running. No
                // answer yet, as Mesos; the agent's re-registration (or its removal) settles it.
                continue
            } else if let agentID = entry.agentID, removedAgents.contains(agentID) {
                sendMasterUpdate(
                    to: frameworkID, taskID: entry.taskID, agentID: agentID, state: .taskLost, reason: .reasonAgentRemoved,
                    message: "Reconciliation: the agent did not re-register after a master restart and was removed")
            } else if let agentID = entry.agentID, let agent = agents[agentID], !agent.isReachable {
                sendMasterUpdate(
                    to: frameworkID, taskID: entry.taskID, agentID: agentID,
                    state: framework.isPartitionAware ? .taskUnreachable : .taskLost, reason: .reasonReconciliation,
                    message: "Reconciliation: task is on an unreachable agent")
            } else {
                sendMasterUpdate(
                    to: frameworkID, taskID: entry.taskID, agentID: entry.agentID,
                    state: framework.isPartitionAware ? .taskUnknown : .taskLost, reason: .reasonReconciliation,
                    message: "Reconciliation: task is unknown")
            }
        }
    }

    private func sendReconciliation(_ frameworkID: FrameworkID, _ record: TaskRecord) {
        var status = record.latestStatus ?? TaskStatus(taskID: record.task.taskID, state: record.state)
        status.state = record.state
        status.agentID = record.task.agentID
        status.uuid = nil
        status.source = .sourceMaster
        status.reason = .reasonReconciliation
        status.message = "Reconciliation: latest task state"
        status.timestamp = wallNow
        send(SchedulerEvent(type: .update, update: .init(status: status)), to: frameworkID)
    }

    /// An update made by the master (no uuid: it needs no acknowledgement).
    func sendMasterUpdate(
        to frameworkID: FrameworkID, taskID: TaskID, agentID: AgentID?, state: TaskState, reason: TaskStatus.Reason,
        message: String
    ) {
        let status = TaskStatus(
            taskID: taskID, state: state, message: message, source: .sourceMaster, reason: reason, agentID: agentID,
            timestamp: wallNow)
        send(SchedulerEvent(type: .update, update: .init(status: status)), to: frameworkID)
    }

    /// A status update from an agent: record it, recover resources of terminal tasks, forward it to the framework.
    /// With agent authentication on (`principal` set), an update is accepted only from the agent that runs the
    /// task: anything else is `permissionDenied` and changes nothing.
    public func statusUpdate(_ message: StatusUpdateMessage, principal: String? = nil) throws(CapstanError) {
        var status = message.status
        let frameworkID = message.frameworkID
        guard var framework = frameworks[frameworkID] else {
            logger.debug("Status update for an unknown framework", metadata: ["framework_id": "\(frameworkID)"])
            return
        }
        // An update the framework acknowledged before its agent re-registered: answer the agent, not the framework.
        let acknowledgedAgent = status.uuid.flatMap { uuid in
            heldAcknowledgements.take(.init(frameworkID: frameworkID, taskID: status.taskID, uuid: uuid))
                ? (status.agentID ?? framework.tasks[status.taskID]?.task.agentID) : nil
        }
        let deliver = { [self] (status: TaskStatus) in
            if let agentID = acknowledgedAgent, let uuid = status.uuid {
                if let agent = agents[agentID] {
                    agentLink.send(
                        .acknowledge(AcknowledgeMessage(frameworkID: frameworkID, taskID: status.taskID, uuid: uuid)),
                        to: agentID, at: agent.endpoint)
                }
            } else {
                send(SchedulerEvent(type: .update, update: .init(status: status)), to: frameworkID)
            }
        }
        guard var record = framework.tasks[status.taskID] else {
            // A task the master forgot (e.g. completed already): forward so the agent's stream can drain.
            try requireAgent(status.agentID, speaksAs: principal)
            deliver(status)
            return
        }
        try requireAgent(record.task.agentID, speaksAs: principal)
        if let claimed = status.agentID, claimed != record.task.agentID {
            throw CapstanError(.permissionDenied, "task \(status.taskID) runs on agent \(record.task.agentID), not \(claimed)")
        }
        if status.agentID == nil { status.agentID = record.task.agentID }
        let latest = message.latestState ?? status.state
        record.task.state = latest
        record.task.statusUpdateState = status.state
        record.task.statusUpdateUUID = status.uuid
        var stored = status
        stored.data = nil
        record.task.statuses.append(stored)
        if record.task.statuses.count > 8 { record.task.statuses.removeFirst(record.task.statuses.count - 8) }
        record.latestStatus = status
        if latest.isTerminal && !record.resourcesRecovered {
            allocator.recover(record.resources, from: frameworkID, on: record.task.agentID)
            record.resourcesRecovered = true
            requestAllocation()
        }
        framework.tasks[status.taskID] = record
        frameworks[frameworkID] = framework
        publish(
            OperatorEvent(
                type: .taskUpdated, taskUpdated: .init(frameworkID: frameworkID, status: status, state: latest)))
        deliver(status)
        if (status.uuid == nil && status.state.isTerminal) || (acknowledgedAgent != nil && latest.isTerminal) {
            completeTask(frameworkID, status.taskID)
        }
    }

    /// An executor's MESSAGE for its framework.
    public func executorMessage(_ message: FrameworkExecutorMessage, principal: String? = nil) throws(CapstanError) {
        try requireAgent(message.agentID, speaksAs: principal)
        send(
            SchedulerEvent(
                type: .message,
                message: .init(agentID: message.agentID, executorID: message.executorID, data: message.data)),
            to: message.frameworkID)
    }
}
