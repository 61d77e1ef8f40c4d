import Logging
import CapstanAPI
import CapstanCore
import CapstanHTTP
import Foundation

extension Master {
    /// One task in the legacy JSON form.
    func legacyTask(_ task: MesosTask) -> LegacyJSON { task.legacyJSON }

    /// One framework in the legacy JSON form.
    func legacyFramework(_ record: FrameworkRecord) -> LegacyJSON {
        let used = allocator.allocated(to: record.id)
        var object: [String: LegacyJSON] = [
            "id": .string(record.id.value), "name": .string(record.info.name), "user": .string(record.info.user),
            "role": .string(record.role), "hostname": .string(record.info.hostname ?? ""),
            "webui_url": .string(record.info.webuiURL ?? ""),
            "active": .bool(record.isConnected), "connected": .bool(record.isConnected),
            "recovered": .bool(record.recovered),
            "failover_timeout": .number(record.info.failoverTimeout ?? 0),
            "checkpoint": .bool(record.info.checkpoint ?? false),
            "registered_time": .number(record.registeredAt),
            "unregistered_time": .number(record.unregisteredAt ?? 0),
            "resources": used.legacyJSON, "used_resources": used.legacyJSON,
            "offered_resources": record.offers.compactMap { offers[$0]?.resources }.reduce(Resources(), +).legacyJSON,
            "tasks": .array(record.tasks.values.sorted { $0.task.taskID < $1.task.taskID }.map { legacyTask($0.task) }),
            "completed_tasks": .array(record.completedTasks.map(legacyTask)),
            "offers": .array(record.offers.sorted().map { .object(["id": .string($0.value)]) }),
            "executors": .array([]),
        ]
        if let withheld = legacyWithheldAgents(record.id) { object["capstan_withheld_agents"] = withheld }
        return .object(object)
    }

    /// One agent in the legacy JSON form.
    func legacySlave(_ agent: AgentRecord) -> [String: LegacyJSON] {
        var attributes: [String: LegacyJSON] = [:]
        for attribute in agent.info.attributes {
            if let text = attribute.text?.value { attributes[attribute.name] = .string(text) }
            if let scalar = attribute.scalar?.value { attributes[attribute.name] = .number(scalar) }
        }
        let free = allocator.available(on: agent.id)
        return [
            "id": .string(agent.id.value), "pid": .string("slave(1)@\(agent.endpoint)"),
            "hostname": .string(agent.info.hostname), "port": .number(Double(agent.endpoint.port)),
            "registered_time": .number(agent.registeredAt),
            "resources": agent.total.legacyJSON, "unreserved_resources": agent.total.unreserved.legacyJSON,
            "used_resources": (agent.total - free).legacyJSON,
            "offered_resources": offers.values.filter { $0.agentID == agent.id }.map(\.resources).reduce(Resources(), +).legacyJSON,
            "reserved_resources": .object(Dictionary(
                uniqueKeysWithValues: Set(agent.total.map(\.role)).subtracting([Resource.unreservedRole]).map { ($0, agent.total.reserved(for: $0).legacyJSON) })),
            "attributes": .object(attributes), "active": .bool(agent.isReachable), "version": .string(agent.version),
        ]
    }

    /// The agents in the legacy JSON form, by ID.
    func legacySlaves() -> [LegacyJSON] {
        agents.values.sorted { $0.id < $1.id }.map { .object(legacySlave($0)) }
    }

    /// Every task the master knows, active and completed, of current and completed frameworks.
    func allLegacyTasks() -> [MesosTask] {
        frameworks.values.flatMap { $0.tasks.values.map(\.task) + $0.completedTasks } + completedFrameworks.flatMap(\.completedTasks)
    }

    /// The legacy `/state` JSON that dashboards and scripts still read.
    func legacyState() -> LegacyJSON {
        let pid = "master@\(address)"
        let reachable = agents.values.filter(\.isReachable).count
        return .object([
            "version": .string(VersionInfoText.mesosAPIVersion), "capstan_version": .string("0.1.0"),
            "build_date": .string("2026-11-25"), "build_time": .number(1_795_564_800), "build_user": .string("capstan"),
            "start_time": .number(startedAt), "elected_time": .number(startedAt),
            "id": .string(id.value), "pid": .string(pid), "hostname": .string(configuration.hostname),
            "leader": .string(pid),
            "leader_info": .object([
                "id": .string(id.value), "pid": .string(pid), "hostname": .string(configuration.hostname),
                "port": .number(Double(address.port)),
                "address": .object([
                    "hostname": .string(configuration.hostname), "ip": .string(address.host), "port": .number(Double(address.port)),
                ]),
            ]),
            "activated_slaves": .number(Double(reachable)),
            "deactivated_slaves": .number(0),
            "unreachable_slaves": .number(Double(agents.count - reachable)),
            "flags": legacyFlags(),
            "slaves": .array(legacySlaves()),
            "frameworks": .array(frameworks.values.sorted { $0.id < $1.id }.map(legacyFramework)),
            "completed_frameworks": .array(completedFrameworks.map(legacyFramework)),
            "orphan_tasks": .array([]), "unregistered_frameworks": .array([]),
        ])
    }

    func legacyFlags() -> LegacyJSON {
        .object(Dictionary(uniqueKeysWithValues: configuration.flags.map { ($0.0, LegacyJSON.string($0.1)) }))
    }

    /// Mesos' `/slaves`.
    func legacySlavesDocument() -> LegacyJSON {
        .object(["slaves": .array(legacySlaves()), "recovered_slaves": .array([])])
    }

    /// Mesos' `/frameworks`.
    func legacyFrameworksDocument() -> LegacyJSON {
        .object([
            "frameworks": .array(frameworks.values.sorted { $0.id < $1.id }.map(legacyFramework)),
            "completed_frameworks": .array(completedFrameworks.map(legacyFramework)),
            "unregistered_frameworks": .array([]),
        ])
    }

    /// Mesos' `/tasks`: active and completed tasks of every framework, ordered by ID (`order=asc`) or the reverse
    /// (`des`, the default), `offset` then `limit` (default 100).
    func legacyTasksDocument(limit: Int, offset: Int, ascending: Bool) -> LegacyJSON {
        var all = allLegacyTasks()
        all.sort { ascending ? $0.taskID < $1.taskID : $1.taskID < $0.taskID }
        let page = all.dropFirst(max(0, offset)).prefix(max(0, limit))
        return .object(["tasks": .array(page.map(legacyTask))])
    }

    /// Mesos' `/state-summary`: agents and frameworks with their task counts by state, without the tasks.
    func legacyStateSummary() -> LegacyJSON {
        let states: [TaskState] = [.taskStaging, .taskStarting, .taskRunning, .taskKilling, .taskFinished, .taskKilled, .taskFailed, .taskLost, .taskError]
        let everyTask = allLegacyTasks()
        func counts(_ tasks: [MesosTask]) -> [String: LegacyJSON] {
            var out: [String: LegacyJSON] = [:]
            for state in states { out[state.rawValue] = .number(Double(tasks.filter { $0.state == state }.count)) }
            return out
        }
        let slaves: [LegacyJSON] = agents.values.sorted { $0.id < $1.id }.map { agent in
            var object = legacySlave(agent)
            let tasks = everyTask.filter { $0.agentID == agent.id }
            object.merge(counts(tasks)) { _, new in new }
            object["framework_ids"] = .array(Set(tasks.map(\.frameworkID.value)).sorted().map(LegacyJSON.string))
            return .object(object)
        }
        let summarized: [LegacyJSON] = (frameworks.values.sorted { $0.id < $1.id } + completedFrameworks).map { record in
            guard case .object(var object) = legacyFramework(record) else { return .null }
            object["tasks"] = nil
            object["completed_tasks"] = nil
            let tasks = everyTask.filter { $0.frameworkID == record.id }
            object.merge(counts(tasks)) { _, new in new }
            object["slave_ids"] = .array(Set(tasks.map(\.agentID.value)).sorted().map(LegacyJSON.string))
            return .object(object)
        }
        return .object(["hostname": .string(configuration.hostname), "cluster": .string(""), "slaves": .array(slaves), "frameworks": .array(summarized)])
    }

    /// Mesos' `/roles`: each role with frameworks, its weight and the resources its frameworks hold.
    func legacyRoles() -> LegacyJSON {
        var byRole: [String: [FrameworkRecord]] = [:]
        for record in frameworks.values { byRole[record.role, default: []].append(record) }
        for role in allocator.roleWeights.keys where byRole[role] == nil { byRole[role] = [] }
        for role in allocator.quotaGuarantees.keys where byRole[role] == nil { byRole[role] = [] }
        let roles: [LegacyJSON] = byRole.keys.sorted().map { role in
            let records = byRole[role] ?? []
            return .object([
                "name": .string(role), "weight": .number(allocator.weight(of: role)),
                "frameworks": .array(records.map(\.id.value).sorted().map(LegacyJSON.string)),
                "resources": records.map { allocator.allocated(to: $0.id) }.reduce(Resources(), +).legacyJSON,
            ])
        }
        return .object(["roles": .array(roles)])
    }
}
