import CapstanAPI
import CapstanCore
import Foundation
import Logging

/// Maintenance, as Mesos 1.0 has it: a schedule of machines that will be unavailable, inverse offers that ask the
/// frameworks running on their agents to give the agents back, and START/STOP that take machines DOWN (their agents
/// are removed and refused) and bring them back UP. The rules live in ``MaintenanceState`` and ``InverseOfferBook``.
extension Master {
    /// GET_MAINTENANCE_SCHEDULE.
    public func maintenanceSchedule() -> MaintenanceSchedule { MaintenanceSchedule(maintenance) }

    /// GET_MAINTENANCE_STATUS.
    public func maintenanceStatus() -> MaintenanceClusterStatus { MaintenanceClusterStatus(maintenance) }

    /// The operator's maintenance reads as responses.
    func maintenanceResponse(_ type: OperatorCall.Kind) -> OperatorResponse {
        var response = OperatorResponse(type: type == .getMaintenanceStatus ? .getMaintenanceStatus : .getMaintenanceSchedule)
        if type == .getMaintenanceStatus {
            response.getMaintenanceStatus = .init(status: maintenanceStatus())
        } else {
            response.getMaintenanceSchedule = .init(schedule: maintenanceSchedule())
        }
        return response
    }

    /// The operator calls that change maintenance: UPDATE_MAINTENANCE_SCHEDULE, START_MAINTENANCE, STOP_MAINTENANCE.
    public static let maintenanceChanges: Set<OperatorCall.Kind> = [.updateMaintenanceSchedule, .startMaintenance, .stopMaintenance]

    /// One of ``maintenanceChanges``; errors name the field path in the call.
    public func changeMaintenance(_ call: OperatorCall) async throws(CapstanError) {
        switch call.type {
        case .updateMaintenanceSchedule?:
            guard let body = call.updateMaintenanceSchedule else {
                throw CapstanError(.invalidArgument, "UPDATE_MAINTENANCE_SCHEDULE needs 'update_maintenance_schedule.schedule'")
            }
            try await updateMaintenanceSchedule(body.schedule, field: "update_maintenance_schedule.schedule")
        case .startMaintenance?:
            guard let body = call.startMaintenance else {
                throw CapstanError(.invalidArgument, "START_MAINTENANCE needs 'start_maintenance.machines'")
            }
            try await startMaintenance(body.machines, field: "start_maintenance.machines")
        case .stopMaintenance?:
            guard let body = call.stopMaintenance else {
                throw CapstanError(.invalidArgument, "STOP_MAINTENANCE needs 'stop_maintenance.machines'")
            }
            try await stopMaintenance(body.machines, field: "stop_maintenance.machines")
        default:
            throw CapstanError(.invalidArgument, "\(call.type?.rawValue ?? "UNKNOWN") is not a maintenance change")
        }
    }

    /// Replaces the schedule. Agents whose machine's unavailability changed lose their offers and inverse offers (new
    /// ones carry the new unavailability), and frameworks on newly draining agents get inverse offers at once.
    public func updateMaintenanceSchedule(_ schedule: MaintenanceSchedule, field: String) async throws(CapstanError) {
        try await changeMaintenanceDurably("UPDATE_MAINTENANCE_SCHEDULE") { (state: inout MaintenanceState) throws(CapstanError) in
            try state.replaceSchedule(schedule.windowsInCore, field: field)
        } then: { changed in
            self.scheduleChanged(changed)
        }
    }

    private func scheduleChanged(_ changed: Set<MachineID>) {
        logger.info(
            "Maintenance schedule updated",
            metadata: ["windows": "\(maintenance.windows.count)", "changed_machines": "\(changed.sorted().map(\.description))"])
        for agent in agents.values where changed.contains(where: { $0.matches(hostname: agent.info.hostname, ip: agent.endpoint.host) }) {
            rescindOffers(on: agent.id)
            rescindInverseOffers { $0.agent == agent.id }
            inverseOffers.clearFilters(on: agent.id)
        }
        sendInverseOffers()
    }

    /// Takes scheduled machines DOWN: each of their agents is told to shut down its frameworks and is removed, its
    /// tasks reported lost, as Mesos' "Operator initiated 'Machine DOWN'" does.
    public func startMaintenance(_ machines: [MesosMachineID], field: String) async throws(CapstanError) {
        let ids = machines.map(MachineID.init(mesos:))
        try await changeMaintenanceDurably("START_MAINTENANCE") { (state: inout MaintenanceState) throws(CapstanError) in
            try state.startMaintenance(ids, field: field)
        } then: { _ in
            self.machinesWentDown(ids)
        }
    }

    private func machinesWentDown(_ ids: [MachineID]) {
        logger.info("Machines are DOWN for maintenance", metadata: ["machines": "\(ids.map(\.description))"])
        for agent in agents.values.sorted(by: { $0.id < $1.id })
        where ids.contains(where: { $0.matches(hostname: agent.info.hostname, ip: agent.endpoint.host) }) {
            removeAgentForMaintenance(agent.id)
        }
    }

    /// Brings DOWN machines back UP: they leave the schedule and their agents may register again.
    public func stopMaintenance(_ machines: [MesosMachineID], field: String) async throws(CapstanError) {
        let ids = machines.map(MachineID.init(mesos:))
        try await changeMaintenanceDurably("STOP_MAINTENANCE") { (state: inout MaintenanceState) throws(CapstanError) in
            try state.stopMaintenance(ids, field: field)
        } then: { _ in
            self.logger.info("Machines are UP after maintenance", metadata: ["machines": "\(ids.map(\.description))"])
        }
    }

    /// Checks `change` on a copy of the maintenance state, writes the result to the registry, and only once it is
    /// durable applies `change` to the live state (where it answers as on the copy: changes run one at a time, and
    /// what else touches the state, inverse-offer answers, does not bear on its rules) and runs `then` with its answer.
    private func changeMaintenanceDurably<Answer>(
        _ call: String, _ change: (inout MaintenanceState) throws(CapstanError) -> Answer, then: (Answer) -> Void
    ) async throws(CapstanError) {
        try await oneChangeAtATime { () async throws(CapstanError) in
            var next = maintenance
            _ = try change(&next)
            try await persist([.updateMaintenance(RegisteredMaintenance(next))], what: call)
            then(try change(&maintenance))
        }
    }

    /// Refuses the registration of an agent whose machine is DOWN.
    func refuseIfDown(hostname: String, endpoint: HostPort) throws(CapstanError) {
        guard let machine = maintenance.machine(ofAgentHostname: hostname, ip: endpoint.host),
            maintenance.mode(of: machine) == .down
        else { return }
        logger.info(
            "Refusing the registration of an agent on a machine that is DOWN",
            metadata: ["endpoint": "\(endpoint)", "machine": "\(machine)"])
        throw CapstanError(
            .unavailable,
            "machine \(machine) that this agent runs on is DOWN for maintenance; it can register after the operator's STOP_MAINTENANCE")
    }

    /// The unavailability offers of an agent carry: its machine's, while the machine is scheduled (DRAINING).
    func unavailability(of agent: AgentRecord) -> Unavailability? {
        guard let machine = maintenance.machine(ofAgentHostname: agent.info.hostname, ip: agent.endpoint.host),
            maintenance.mode(of: machine) == .draining, let interval = maintenance.interval(of: machine)
        else { return nil }
        return Unavailability(interval)
    }

    /// Removes an agent whose machine went DOWN: offers and inverse offers on it are rescinded, its frameworks are
    /// shut down on it, its tasks are TASK_LOST (TASK_GONE_BY_OPERATOR to partition-aware frameworks) and every
    /// framework gets a FAILURE for it.
    func removeAgentForMaintenance(_ agentID: AgentID) {
        guard let agent = agents[agentID] else { return }
        logger.warning("Removing an agent whose machine is DOWN for maintenance", metadata: ["agent_id": "\(agentID)"])
        rescindOffers(on: agentID)
        rescindInverseOffers { $0.agent == agentID }
        let message = "Agent \(agentID) removed: its machine is DOWN for maintenance"
        for (frameworkID, framework) in frameworks.sorted(by: { $0.key < $1.key }) {
            let affected = framework.tasks.values.filter { $0.task.agentID == agentID && !$0.state.isTerminal }
            if !affected.isEmpty || framework.executors[agentID] != nil {
                agentLink.send(.shutdownFramework(ShutdownMessage(frameworkID: frameworkID)), to: agentID, at: agent.endpoint)
            }
            for record in affected.sorted(by: { $0.task.taskID < $1.task.taskID }) {
                let state: TaskState = framework.isPartitionAware ? .taskGoneByOperator : .taskLost
                let status = TaskStatus(
                    taskID: record.task.taskID, state: state, message: message, source: .sourceMaster,
                    reason: .reasonAgentRemoved, agentID: agentID, executorID: record.task.executorID, timestamp: wallNow)
                frameworks[frameworkID]?.tasks[record.task.taskID]?.task.state = state
                frameworks[frameworkID]?.tasks[record.task.taskID]?.latestStatus = status
                frameworks[frameworkID]?.tasks[record.task.taskID]?.resourcesRecovered = true
                publish(OperatorEvent(type: .taskUpdated, taskUpdated: .init(frameworkID: frameworkID, status: status, state: state)))
                send(SchedulerEvent(type: .update, update: .init(status: status)), to: frameworkID)
                completeTask(frameworkID, record.task.taskID)
            }
            frameworks[frameworkID]?.executors[agentID] = nil
            send(SchedulerEvent(type: .failure, failure: .init(agentID: agentID)), to: frameworkID)
        }
        agents[agentID] = nil
        registry?.submit(.removeAgent(agentID))
        allocator.removeAgent(agentID)
        publish(OperatorEvent(type: .agentRemoved, agentRemoved: .init(agentID: agentID)))
    }

    // MARK: Inverse offers

    /// Sends an inverse offer to each connected framework that runs tasks or executors on an agent of a draining
    /// machine, unless one is outstanding or the framework's answer filters it (called after a schedule change and
    /// from housekeeping).
    func sendInverseOffers() {
        // Inverse offers of frameworks that went away are dropped (a re-subscribed framework is asked again).
        _ = inverseOffers.remove { frameworks[$0.framework]?.isConnected != true }
        guard !maintenance.windows.isEmpty else { return }
        let now = monotonicNow
        var byFramework: [FrameworkID: [InverseOffer]] = [:]
        for agent in agents.values.sorted(by: { $0.id < $1.id }) where agent.isReachable {
            guard let machine = maintenance.machine(ofAgentHostname: agent.info.hostname, ip: agent.endpoint.host),
                maintenance.mode(of: machine) == .draining, let unavailability = unavailability(of: agent)
            else { continue }
            for (frameworkID, framework) in frameworks.sorted(by: { $0.key < $1.key }) where framework.isConnected {
                let runsThere =
                    framework.executors[agent.id]?.isEmpty == false
                    || framework.tasks.values.contains { $0.task.agentID == agent.id && !$0.state.isTerminal }
                guard runsThere, inverseOffers.shouldOffer(to: frameworkID, on: agent.id, now: now) else { continue }
                let offerID = makeOfferID()
                inverseOffers.offered(.init(id: offerID, framework: frameworkID, agent: agent.id, machine: machine))
                maintenance.record(.unknown, from: frameworkID, on: machine, at: wallNow)
                byFramework[frameworkID, default: []].append(
                    InverseOffer(
                        id: offerID, url: agentURL(agent), frameworkID: frameworkID, agentID: agent.id, unavailability: unavailability))
            }
        }
        for (frameworkID, list) in byFramework.sorted(by: { $0.key < $1.key }) {
            logger.info("Sending inverse offers", metadata: ["framework_id": "\(frameworkID)", "count": "\(list.count)"])
            send(SchedulerEvent(type: .inverseOffers, inverseOffers: .init(inverseOffers: list)), to: frameworkID)
        }
    }

    /// ACCEPT_INVERSE_OFFERS / DECLINE_INVERSE_OFFERS: the answer is recorded for GET_MAINTENANCE_STATUS and the
    /// framework gets no new inverse offer for the agent for `refuse_seconds` (default 5). Unknown IDs are ignored,
    /// as Mesos ignores inverse offers that were rescinded meanwhile.
    func answerInverseOffers(_ frameworkID: FrameworkID, _ answer: SchedulerCall.InverseOffers, accept: Bool) {
        let refuse = answer.filters?.refuseSeconds ?? 5
        for offerID in answer.inverseOfferIDs {
            guard let entry = inverseOffers.answer(offerID, from: frameworkID, refuseSeconds: refuse, now: monotonicNow) else {
                logger.debug("Ignoring an answer to an unknown inverse offer", metadata: ["framework_id": "\(frameworkID)", "offer_id": "\(offerID)"])
                continue
            }
            maintenance.record(accept ? .accept : .decline, from: frameworkID, on: entry.machine, at: wallNow)
            logger.info(
                accept ? "Framework accepted an inverse offer" : "Framework declined an inverse offer",
                metadata: ["framework_id": "\(frameworkID)", "agent_id": "\(entry.agent)", "offer_id": "\(offerID)"])
        }
    }

    /// Rescinds outstanding inverse offers that match (RESCIND_INVERSE_OFFER to their frameworks).
    func rescindInverseOffers(where predicate: (InverseOfferBook.Entry) -> Bool) {
        for entry in inverseOffers.remove(where: predicate) {
            send(SchedulerEvent(type: .rescindInverseOffer, rescindInverseOffer: .init(inverseOfferID: entry.id)), to: entry.framework)
        }
    }

    /// The agent's address as offers name it.
    func agentURL(_ agent: AgentRecord) -> MesosURL {
        MesosURL(
            scheme: "http", address: Address(hostname: agent.info.hostname, ip: agent.endpoint.host, port: Int32(agent.endpoint.port)),
            path: "/agent")
    }
}
