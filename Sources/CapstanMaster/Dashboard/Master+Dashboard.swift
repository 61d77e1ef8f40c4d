import CapstanAPI
import CapstanCore
import CapstanHTTP
import Foundation

extension Master {
    /// The dashboard's summary: master, agents with their resources, frameworks, task counts. It walks the tasks once
    /// to count them and lists none.
    public func dashboardSummary() -> DashboardSummary {
        var counts: [String: Int] = [:]
        forEachDashboardTask { task, _ in counts[task.state.rawValue, default: 0] += 1 }
        var cluster = ResourceColumns()
        let dashboardAgents: [DashboardAgent] = agents.values.sorted { $0.id < $1.id }.map { agent in
            var columns = ResourceColumns()
            if agent.isReachable {
                let offered = offers.values.filter { $0.agentID == agent.id }.map(\.resources).reduce(Resources(), +)
                let idle = allocator.available(on: agent.id)
                columns = ResourceColumns(total: agent.total, used: agent.total - idle - offered, offered: offered, idle: idle)
                cluster.add(columns)
            }
            let named = Set(["cpus", "mem", "disk", "gpus"])
            return DashboardAgent(
                id: agent.id.value, hostname: agent.info.hostname, endpoint: agent.endpoint.description, active: agent.isReachable,
                attributes: agent.info.attributes.map(\.dashboardText), resources: columns.document,
                other: Resources(agent.total.entries.filter { !named.contains($0.name) }).description,
                volumes: agent.total.entries.compactMap { entry in
                    guard let volume = entry.volume, case .scalar(let megabytes) = entry.value else { return nil }
                    return "\(volume.id) \(Int(megabytes)) MB (role \(entry.role), at \(volume.containerPath))"
                })
        }
        let dashboardFrameworks = frameworks.values.sorted { $0.id < $1.id }.map { record in
            DashboardFramework(
                id: record.id.value, name: record.info.name, role: record.role, active: record.isConnected,
                activeTasks: record.tasks.values.filter { !$0.state.isTerminal }.count, webuiURL: record.info.webuiURL)
        }
        return DashboardSummary(
            masterID: id.value, hostname: configuration.hostname, version: VersionInfoText.mesosAPIVersion, startedAt: startedAt,
            agents: dashboardAgents, frameworks: dashboardFrameworks, taskCounts: counts, resources: cluster.document)
    }

    /// One page of tasks matching `query`: active tasks first (by framework, then task ID), then completed ones,
    /// newest first. Only the page's rows are built, so a cluster with many tasks answers in about the time it
    /// takes to filter their IDs.
    public func dashboardTasks(_ query: DashboardTaskQuery) -> DashboardTaskPage {
        let needle = query.text.lowercased()
        var active: [MesosTask] = []
        var completed: [MesosTask] = []
        forEachDashboardTask { task, isActive in
            guard Self.matches(task, state: query.state, isActive: isActive) else { return }
            if !needle.isEmpty {
                let hostname = agents[task.agentID]?.info.hostname ?? ""
                let app = task.labels?.labels.first { $0.key == TaskLabel.app }?.value ?? ""
                guard [task.taskID.value, task.name, hostname, app].contains(where: { $0.lowercased().contains(needle) }) else { return }
            }
            if isActive { active.append(task) } else { completed.append(task) }
        }
        active.sort { ($0.frameworkID, $0.taskID) < ($1.frameworkID, $1.taskID) }
        let ordered = active + completed.reversed()
        let limit = min(max(1, query.limit), DashboardTaskQuery.maxLimit)
        let offset = max(0, query.offset)
        let page = ordered.dropFirst(offset).prefix(limit)
        return DashboardTaskPage(offset: offset, limit: limit, total: ordered.count, tasks: page.map { dashboardTask($0) })
    }

    /// Registers a dashboard event stream: every operator event from now on (no SUBSCRIBED snapshot of the whole
    /// state, which the page reads a page at a time instead).
    public func subscribeDashboard() -> (UUID, StreamSubscriber<OperatorEvent>) {
        let subscriber = StreamSubscriber<OperatorEvent>(limit: configuration.connectionLimits.streamBufferBytes)
        let key = UUID()
        operatorSubscribers[key] = subscriber
        return (key, subscriber)
    }

    /// Calls `body` with each task the master knows (active ones, then completed ones oldest first).
    func forEachDashboardTask(_ body: (MesosTask, _ active: Bool) -> Void) {
        for framework in frameworks.values {
            for record in framework.tasks.values { body(record.task, !record.state.isTerminal) }
        }
        for framework in frameworks.values { for task in framework.completedTasks { body(task, false) } }
        for framework in completedFrameworks { for task in framework.completedTasks { body(task, false) } }
    }

    static func matches(_ task: MesosTask, state: String, isActive: Bool) -> Bool {
        switch state {
        case "", "all": return true
        case "active": return isActive
        case "completed": return !isActive
        default: return task.state.rawValue == state
        }
    }

    func dashboardTask(_ task: MesosTask) -> DashboardTask {
        let latest = task.statuses.last
        let agent = agents[task.agentID]
        let ports = ((try? Resources(mesos: task.resources))?.ranges("ports") ?? []).map { range in
            range.begin == range.end ? "\(range.begin)" : "\(range.begin)-\(range.end)"
        }
        let ips = task.statuses.reversed().lazy.compactMap(\.containerStatus).first.map { status in
            status.networkInfos.flatMap(\.ipAddresses).compactMap(\.ipAddress)
        } ?? []
        func label(_ key: String) -> String? { task.labels?.labels.first { $0.key == key }?.value }
        var sandboxURL: String?
        if let agent, agent.isReachable {
            let executor = task.executorID?.value ?? task.taskID.value
            let path = task.directory ?? "/slaves/\(task.agentID.value)/frameworks/\(task.frameworkID.value)/executors/\(executor)/runs/latest"
            var components = URLComponents()
            components.scheme = configuration.tls == nil ? "http" : "https"
            components.host = agent.endpoint.host
            components.port = agent.endpoint.port
            components.path = "/sandbox"
            components.queryItems = [URLQueryItem(name: "path", value: path), URLQueryItem(name: "task", value: task.taskID.value)]
            sandboxURL = components.string
        }
        return DashboardTask(
            id: task.taskID.value, name: task.name, frameworkID: task.frameworkID.value, agentID: task.agentID.value,
            agentHostname: agent?.info.hostname, state: task.state.rawValue, active: !task.state.isTerminal,
            healthy: latest?.healthy, message: latest?.message, ports: ports, ips: ips, app: label(TaskLabel.app),
            commit: label(TaskLabel.commit), updatedAt: latest?.timestamp, sandboxURL: sandboxURL)
    }
}

/// Total, used, offered and idle resources while they are summed.
struct ResourceColumns {
    var total = Resources()
    var used = Resources()
    var offered = Resources()
    var idle = Resources()

    mutating func add(_ other: ResourceColumns) {
        total += other.total
        used += other.used
        offered += other.offered
        idle += other.idle
    }

    var document: DashboardResources {
        func amounts(_ resources: Resources) -> DashboardResources.Amounts {
            .init(cpus: resources.cpus, mem: resources.mem, disk: resources.disk, gpus: resources.gpus)
        }
        return DashboardResources(total: amounts(total), used: amounts(used), offered: amounts(offered), idle: amounts(idle))
    }
}

extension MesosAttribute {
    /// `name:value` as `--attributes` writes it.
    var dashboardText: String {
        let value: String
        switch type {
        case .scalar: value = scalar.map { "\($0.value)" } ?? ""
        case .ranges: value = "[" + (ranges?.range.map { "\($0.begin)-\($0.end)" } ?? []).joined(separator: ",") + "]"
        case .set: value = "{" + (set?.item ?? []).joined(separator: ",") + "}"
        default: value = text?.value ?? ""
        }
        return "\(name):\(value)"
    }
}
