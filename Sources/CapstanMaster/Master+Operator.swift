import Logging
import CapstanAPI
import CapstanCore
import CapstanHTTP
import Foundation

extension Master {
    /// Answers one operator API call.
    public func operatorCall(_ call: OperatorCall) throws(CapstanError) -> OperatorResponse {
        switch call.type {
        case .getHealth:
            return OperatorResponse(type: .getHealth, getHealth: .init(healthy: true))
        case .getVersion:
            return OperatorResponse(type: .getVersion, getVersion: .init(versionInfo: versionInfo))
        case .getFlags:
            return OperatorResponse(
                type: .getFlags, getFlags: .init(flags: configuration.flags.map { MesosFlag(name: $0.0, value: $0.1) }))
        case .getMetrics:
            // Mesos waits up to `timeout` for slow gauges; these are read at once, so it only has to be valid.
            if let timeout = call.getMetrics?.timeout, timeout.nanoseconds < 0 {
                throw CapstanError(.invalidArgument, "get_metrics.timeout.nanoseconds must be >= 0 (it was \(timeout.nanoseconds))")
            }
            return OperatorResponse(
                type: .getMetrics,
                getMetrics: .init(metrics: metricsSnapshot().sorted { $0.key < $1.key }.map { MesosMetric(name: $0.key, value: $0.value) }))
        case .getState:
            return OperatorResponse(type: .getState, getState: getState())
        case .getAgents:
            return OperatorResponse(type: .getAgents, getAgents: getAgents())
        case .getFrameworks:
            return OperatorResponse(type: .getFrameworks, getFrameworks: getFrameworks())
        case .getExecutors:
            return OperatorResponse(type: .getExecutors, getExecutors: getExecutors())
        case .getTasks:
            return OperatorResponse(type: .getTasks, getTasks: getTasks())
        case .getMaster:
            return OperatorResponse(type: .getMaster, getMaster: .init(masterInfo: masterInfo))
        case .getRoles:
            return OperatorResponse(type: .getRoles, getRoles: getRoles())
        case .getWeights:
            return OperatorResponse(
                type: .getWeights,
                getWeights: .init(weightInfos: weightInfos()))
        case .getLoggingLevel:
            return OperatorResponse(type: .getLoggingLevel, getLoggingLevel: .init(level: LogLevelControl.shared.verbosity))
        case .getQuota:
            var response = OperatorResponse(type: .getQuota)
            response.getQuota = .init(status: quotaStatus())
            return response
        case .listFiles, .readFile:
            // A Mesos master serves its own log here when it has one; this master logs to standard error only.
            let path = call.listFiles?.path ?? call.readFile?.path ?? ""
            throw CapstanError(.notFound, "No such file or directory: \(path) (the master serves no files; read a task's sandbox from its agent)")
        case .getMaintenanceStatus, .getMaintenanceSchedule:
            return maintenanceResponse(call.type ?? .getMaintenanceSchedule)
        case .subscribe:
            throw CapstanError(.invalidArgument, "SUBSCRIBE is answered as a stream")
        default:
            throw CapstanError(.unsupported, "Operator call \(call.type?.rawValue ?? "UNKNOWN") is not supported by this master")
        }
    }

    /// RESERVE_RESOURCES, UNRESERVE_RESOURCES, CREATE_VOLUMES and DESTROY_VOLUMES on an agent's unallocated resources
    /// (offers on the agent are rescinded first, as Mesos does, so that offered resources count as unallocated); the
    /// same rules as a framework's operations, for any role.
    public func operateResources(_ call: OperatorCall) throws(CapstanError) {
        let name = call.type?.rawValue ?? "UNKNOWN"
        func resources(_ list: [MesosResource], _ field: String) throws(CapstanError) -> Resources {
            do { return try Resources(mesos: list) } catch { throw CapstanError(.invalidArgument, "\(field): \(error.message)") }
        }
        let agentID: AgentID
        let operation: ResourceOperation
        let field: String
        switch call.type {
        case .reserveResources?:
            guard let body = call.reserveResources else { throw CapstanError(.invalidArgument, "\(name) needs 'reserve_resources'") }
            (agentID, field) = (body.agentID, "reserve_resources")
            operation = .reserve(try resources(body.resources, "reserve_resources.resources"))
        case .unreserveResources?:
            guard let body = call.unreserveResources else { throw CapstanError(.invalidArgument, "\(name) needs 'unreserve_resources'") }
            (agentID, field) = (body.agentID, "unreserve_resources")
            operation = .unreserve(try resources(body.resources, "unreserve_resources.resources"))
        case .createVolumes?:
            guard let body = call.createVolumes else { throw CapstanError(.invalidArgument, "\(name) needs 'create_volumes'") }
            (agentID, field) = (body.agentID, "create_volumes")
            operation = .create(try resources(body.volumes, "create_volumes.volumes"))
        case .destroyVolumes?:
            guard let body = call.destroyVolumes else { throw CapstanError(.invalidArgument, "\(name) needs 'destroy_volumes'") }
            (agentID, field) = (body.agentID, "destroy_volumes")
            operation = .destroy(try resources(body.volumes, "destroy_volumes.volumes"))
        default:
            throw CapstanError(.invalidArgument, "\(name) is not a resource operation")
        }
        guard let agent = agents[agentID], agent.isReachable else {
            throw CapstanError(.notFound, "\(field).agent_id: agent \(agentID) is not registered with this master")
        }
        rescindOffers(on: agentID)
        let conversion = try operation.conversion(
            available: allocator.available(on: agentID), role: nil, principal: nil, agentTotal: agent.total, field: field)
        applyConversion(conversion, on: agentID, heldBy: nil)
        logger.info("Applied an operator resource operation", metadata: ["agent_id": "\(agentID)", "operation": "\(operation.name)", "resources": "\(conversion.converted)"])
        requestAllocation()
    }

    /// TEARDOWN on the operator API: removes a framework as its own TEARDOWN would (its tasks are killed, its
    /// executors shut down); `notFound` for a framework the master does not have.
    public func teardownByOperator(_ teardown: OperatorCall.Teardown?) throws(CapstanError) {
        guard let teardown else { throw CapstanError(.invalidArgument, "TEARDOWN needs 'teardown.framework_id'") }
        guard frameworks[teardown.frameworkID] != nil else {
            throw CapstanError(.notFound, "Framework \(teardown.frameworkID) is not registered")
        }
        logger.info("Operator asked for teardown", metadata: ["framework_id": "\(teardown.frameworkID)"])
        removeFramework(teardown.frameworkID)
    }

    /// SUBSCRIBE on the operator API: SUBSCRIBED with the whole state, then events as they happen.
    public func subscribeOperator() -> (UUID, StreamSubscriber<OperatorEvent>) {
        let continuation = StreamSubscriber<OperatorEvent>(limit: configuration.connectionLimits.streamBufferBytes)
        let key = UUID()
        continuation.yield(
            OperatorEvent(
                type: .subscribed,
                subscribed: .init(getState: getState(), heartbeatIntervalSeconds: configuration.heartbeatInterval.seconds)))
        operatorSubscribers[key] = continuation
        return (key, continuation)
    }

    public func unsubscribeOperator(_ key: UUID) {
        operatorSubscribers.removeValue(forKey: key)?.finish()
    }

    var versionInfo: MesosVersionInfo {
        MesosVersionInfo(
            version: VersionInfoText.mesosAPIVersion, buildDate: "2026-11-25", buildTime: 1_795_564_800,
            buildUser: "capstan", gitSHA: nil, gitBranch: nil, gitTag: "capstan-0.1.0")
    }

    func getState() -> OperatorResponse.GetState {
        OperatorResponse.GetState(
            getTasks: getTasks(), getExecutors: getExecutors(), getFrameworks: getFrameworks(), getAgents: getAgents())
    }

    /// Every role with frameworks or a weight: its weight, frameworks and allocated resources.
    func getRoles() -> OperatorResponse.GetRoles {
        var names = Set(allocator.roleWeights.keys).union(allocator.quotaGuarantees.keys)
        for framework in frameworks.values { names.insert(framework.role) }
        return OperatorResponse.GetRoles(
            roles: names.sorted().map { role in
                let members = frameworks.values.filter { $0.role == role }.map(\.id).sorted()
                let allocated = members.map { allocator.allocated(to: $0) }.reduce(Resources(), +)
                return MesosRole(
                    name: role, weight: allocator.weight(of: role), frameworks: members, resources: allocated.mesos)
            })
    }

    func getTasks() -> OperatorResponse.GetTasks {
        var tasks: [MesosTask] = []
        var completed: [MesosTask] = []
        var unreachable: [MesosTask] = []
        // The IDs are sorted, not the records: sorting the records themselves moves whole FrameworkRecords and
        // TaskRecords around, on the actor, for every GET_TASKS and GET_STATE (`capstan bench master-load` found
        // that to be most of the master's CPU with 200 frameworks in a debug build).
        for frameworkID in frameworks.keys.sorted() {
            guard let framework = frameworks[frameworkID] else { continue }
            for taskID in framework.tasks.keys.sorted() {
                guard let record = framework.tasks[taskID] else { continue }
                if record.state == .taskUnreachable { unreachable.append(record.task) } else { tasks.append(record.task) }
            }
            completed += framework.completedTasks
        }
        for framework in completedFrameworks { completed += framework.completedTasks }
        return OperatorResponse.GetTasks(
            pendingTasks: [], tasks: tasks, unreachableTasks: unreachable, completedTasks: completed, orphanTasks: [])
    }

    func getExecutors() -> OperatorResponse.GetExecutors {
        var executors: [OperatorResponse.GetExecutors.Executor] = []
        for frameworkID in frameworks.keys.sorted() {
            guard let framework = frameworks[frameworkID] else { continue }
            for (agentID, byID) in framework.executors.sorted(by: { $0.key < $1.key }) {
                for (_, info) in byID.sorted(by: { $0.key < $1.key }) {
                    executors.append(.init(executorInfo: info, agentID: agentID))
                }
            }
        }
        return OperatorResponse.GetExecutors(executors: executors, orphanExecutors: [])
    }

    func operatorFramework(_ frameworkID: FrameworkID) -> OperatorResponse.GetFrameworks.Framework {
        let framework = frameworks[frameworkID] ?? completedFrameworks.first { $0.id == frameworkID }
        guard let framework else {
            return .init(frameworkInfo: FrameworkInfo(user: "", name: ""), active: false, connected: false, recovered: false)
        }
        let offered = framework.offers.compactMap { offers[$0]?.resources }.reduce(Resources(), +)
        return OperatorResponse.GetFrameworks.Framework(
            frameworkInfo: framework.info,
            active: framework.isConnected,
            connected: framework.isConnected,
            recovered: framework.recovered,
            registeredTime: TimeInfo(seconds: framework.registeredAt),
            reregisteredTime: framework.reregisteredAt.map(TimeInfo.init(seconds:)),
            unregisteredTime: framework.unregisteredAt.map(TimeInfo.init(seconds:)),
            offers: framework.offers.compactMap { offers[$0]?.offer }.sorted { $0.id < $1.id },
            allocatedResources: (allocator.allocated(to: frameworkID) - offered).mesos,
            offeredResources: offered.mesos,
            withheldAgents: allocator.withholding(from: frameworkID).map(WithheldAgents.init))
    }

    func getFrameworks() -> OperatorResponse.GetFrameworks {
        OperatorResponse.GetFrameworks(
            frameworks: frameworks.keys.sorted().map(operatorFramework),
            completedFrameworks: completedFrameworks.map { framework in
                .init(
                    frameworkInfo: framework.info, active: false, connected: false, recovered: false,
                    registeredTime: TimeInfo(seconds: framework.registeredAt),
                    unregisteredTime: framework.unregisteredAt.map(TimeInfo.init(seconds:)))
            },
            recoveredFrameworks: frameworks.values.filter(\.recovered).map(\.info))
    }

    func operatorAgent(_ agentID: AgentID) -> OperatorResponse.GetAgents.Agent {
        guard let agent = agents[agentID] else {
            return .init(agentInfo: AgentInfo(hostname: ""), active: false, version: "")
        }
        let offered = offers.values.filter { $0.agentID == agentID }.map(\.resources).reduce(Resources(), +)
        let free = allocator.available(on: agentID)
        return OperatorResponse.GetAgents.Agent(
            agentInfo: agent.info, active: agent.isReachable, version: agent.version,
            pid: "slave(1)@\(agent.endpoint)",
            registeredTime: TimeInfo(seconds: agent.registeredAt),
            reregisteredTime: agent.reregisteredAt.map(TimeInfo.init(seconds:)),
            totalResources: agent.total.mesos,
            allocatedResources: (agent.total - free - offered).mesos,
            offeredResources: offered.mesos)
    }

    func getAgents() -> OperatorResponse.GetAgents {
        OperatorResponse.GetAgents(
            agents: agents.values.filter(\.isReachable).map(\.id).sorted().map(operatorAgent),
            // As Mesos: the registry's agents that have not re-registered since this master started. A scheduler
            // that sees one knows the task list may still grow (the reconciler waits for them before it plans).
            recoveredAgents: recoveringAgents.values.sorted { $0.id < $1.id }.map(\.info))
    }

    /// Gauges for `/metrics` and GET_METRICS, named as Mesos names them.
    public func metricsSnapshot() -> [String: Double] {
        let reachable = agents.values.filter(\.isReachable)
        let tasks = frameworks.values.flatMap(\.tasks.values)
        func count(_ state: TaskState) -> Double { Double(tasks.filter { $0.state == state }.count) }
        var total = Resources()
        var free = Resources()
        for agent in reachable {
            total += agent.total
            free += allocator.available(on: agent.id)
        }
        let used = total - free
        return [
            "master/elected": 1,
            "master/uptime_secs": wallNow - startedAt,
            "master/slaves_active": Double(reachable.count),
            "master/slaves_unreachable": Double(agents.count - reachable.count),
            "master/frameworks_active": Double(frameworks.values.filter(\.isConnected).count),
            "master/frameworks_disconnected": Double(frameworks.values.filter { !$0.isConnected }.count),
            "master/outstanding_offers": Double(offers.count),
            "master/tasks_staging": count(.taskStaging),
            "master/tasks_starting": count(.taskStarting),
            "master/tasks_running": count(.taskRunning),
            "master/tasks_killing": count(.taskKilling),
            "master/cpus_total": total.cpus, "master/cpus_used": used.cpus,
            "master/mem_total": total.mem, "master/mem_used": used.mem,
            "master/disk_total": total.disk, "master/disk_used": used.disk,
            "master/gpus_total": total.gpus, "master/gpus_used": used.gpus,
        ]
    }
}

extension TimeInfo {
    init(seconds: Double) { self.init(nanoseconds: Int64(seconds * 1e9)) }
}
