import CapstanAPI
import CapstanCore
import CapstanHTTP
import Foundation

/// The agent's Mesos 1.0 JSON endpoints (`/state`, `/flags`, `/monitor/statistics`, `/containers`,
/// `/metrics/snapshot`), built from the same records as GET_STATE and GET_CONTAINERS.
extension Agent {
    /// `/state`: the agent, its frameworks, their executors and tasks.
    func legacyState() -> LegacyJSON {
        var attributes: [String: LegacyJSON] = [:]
        for attribute in agentInfo.attributes {
            if let text = attribute.text?.value { attributes[attribute.name] = .string(text) }
            if let scalar = attribute.scalar?.value { attributes[attribute.name] = .number(scalar) }
        }
        var object: [String: LegacyJSON] = [
            "version": .string(VersionText.mesosAPIVersion), "build_date": .string("2026-11-25"),
            "build_time": .number(1_795_564_800), "build_user": .string("capstan"),
            "start_time": .number(startedAt), "id": .string(agentID?.value ?? ""),
            "pid": .string("slave(1)@\(endpoint)"), "hostname": .string(configuration.hostname),
            "resources": Self.total(configured: configuration.resources, checkpointed: checkpointedResources).legacyJSON,
            "attributes": .object(attributes), "flags": legacyFlags(),
            "frameworks": .array(frameworks.values.sorted { $0.id < $1.id }.map { legacyFramework($0, completed: false) }),
            "completed_frameworks": .array(completedFrameworks.map { legacyFramework($0, completed: true) }),
        ]
        if agentID != nil { object["master_hostname"] = .string(configuration.master.host) }
        return .object(object)
    }

    /// `/flags`' `flags` object: the agent's flags with their values, as GET_FLAGS lists them.
    func legacyFlags() -> LegacyJSON {
        var flags: [String: LegacyJSON] = [:]
        for (name, value) in configuration.flags + isolationFlags { flags[name] = .string(value) }
        return .object(flags)
    }

    private func legacyFramework(_ record: AgentFrameworkRecord, completed: Bool) -> LegacyJSON {
        let live = completed ? [] : record.executors.values.sorted { $0.info.executorID < $1.info.executorID }
        return .object([
            "id": .string(record.id.value), "name": .string(record.info.name), "user": .string(record.info.user),
            "failover_timeout": .number(record.info.failoverTimeout ?? 0), "checkpoint": .bool(record.info.checkpoint ?? false),
            "role": .string(record.info.role ?? record.info.roles.first ?? "*"), "hostname": .string(record.info.hostname ?? ""),
            "executors": .array(live.map { legacyExecutor($0, completed: false) }),
            "completed_executors": .array(record.completedExecutors.map { legacyExecutor($0, completed: true) }),
        ])
    }

    private func legacyExecutor(_ record: ExecutorRecord, completed: Bool) -> LegacyJSON {
        func tasks(_ list: [AgentTaskRecord]) -> LegacyJSON {
            .array(list.sorted { $0.info.taskID < $1.info.taskID }.map { $0.wire(agentID: agentID, directory: record.sandbox).legacyJSON })
        }
        let running = Array(record.tasks.values)
        return .object([
            "id": .string(record.info.executorID.value), "name": .string(record.info.name ?? ""),
            "source": .string(record.info.source ?? ""), "container": .string(record.containerID.value),
            "directory": .string(record.sandbox),
            "resources": ((try? Resources(mesos: record.info.resources + running.flatMap(\.info.resources))) ?? Resources()).legacyJSON,
            "tasks": tasks(completed ? [] : running.filter { !$0.state.isTerminal }),
            "queued_tasks": tasks(completed ? [] : Array(record.queued.values)),
            "completed_tasks": tasks(record.completed + running.filter { completed || $0.state.isTerminal }),
        ])
    }

    /// One running container as `/containers` lists it (Mesos 1.0): IDs as strings, its usage and its status.
    struct LegacyContainer {
        var container: AgentOperatorResponse.GetContainers.Container
        var source: String
    }

    /// The running containers from GET_CONTAINERS, each with its executor's `source`.
    func legacyContainers() async -> [LegacyContainer] {
        await getContainers().containers.map { container in
            let source = container.frameworkID.flatMap { framework in
                container.executorID.flatMap { executor(framework, $0)?.info.source }
            }
            return LegacyContainer(container: container, source: source ?? "")
        }
    }

    /// `/monitor/statistics`: each running executor's resource usage.
    func monitorStatistics() async -> [MonitorEntry] {
        await legacyContainers().map { entry in
            MonitorEntry(
                executorID: entry.container.executorID?.value ?? "", executorName: entry.container.executorName ?? "",
                frameworkID: entry.container.frameworkID?.value ?? "", source: entry.source,
                statistics: entry.container.resourceStatistics ?? ResourceStatistics(timestamp: Date().timeIntervalSince1970))
        }
    }

    /// `/containers`: each running container with its usage and status.
    func containersDocument() async -> [ContainerEntry] {
        await legacyContainers().map { entry in
            ContainerEntry(
                containerID: entry.container.containerID.value, executorID: entry.container.executorID?.value ?? "",
                executorName: entry.container.executorName ?? "", frameworkID: entry.container.frameworkID?.value ?? "",
                source: entry.source,
                statistics: entry.container.resourceStatistics ?? ResourceStatistics(timestamp: Date().timeIntervalSince1970),
                status: entry.container.containerStatus, gpus: entry.container.gpus)
        }
    }

    /// The agent's gauges for `/metrics/snapshot` and GET_METRICS, named as Mesos names them.
    public func metricsSnapshot() -> [String: Double] {
        let executors = frameworks.values.flatMap(\.executors.values)
        let tasks = executors.flatMap(\.tasks.values)
        func count(_ state: TaskState) -> Double { Double(tasks.filter { $0.state == state }.count) }
        let total = Self.total(configured: configuration.resources, checkpointed: checkpointedResources)
        var used = Resources()
        for executor in executors where !executor.state.isTerminated {
            used += (try? Resources(mesos: executor.info.resources + executor.tasks.values.filter { !$0.state.isTerminal }.flatMap(\.info.resources))) ?? Resources()
        }
        func percent(_ used: Double, _ total: Double) -> Double { total > 0 ? used / total : 0 }
        return [
            "slave/registered": agentID == nil ? 0 : 1,
            "slave/uptime_secs": Date().timeIntervalSince1970 - startedAt,
            "slave/frameworks_active": Double(frameworks.count),
            "slave/executors_running": Double(executors.filter { if case .running = $0.state { true } else { false } }.count),
            "slave/executors_terminating": Double(executors.filter { if case .terminating = $0.state { true } else { false } }.count),
            "slave/tasks_staging": count(.taskStaging), "slave/tasks_starting": count(.taskStarting),
            "slave/tasks_running": count(.taskRunning), "slave/tasks_killing": count(.taskKilling),
            "slave/cpus_total": total.cpus, "slave/cpus_used": used.cpus, "slave/cpus_percent": percent(used.cpus, total.cpus),
            "slave/mem_total": total.mem, "slave/mem_used": used.mem, "slave/mem_percent": percent(used.mem, total.mem),
            "slave/disk_total": total.disk, "slave/disk_used": used.disk, "slave/disk_percent": percent(used.disk, total.disk),
            "slave/gpus_total": total.gpus, "slave/gpus_used": used.gpus,
        ]
    }
}

/// One entry of `/monitor/statistics` (Mesos 1.0).
struct MonitorEntry: Encodable {
    var executorID: String
    var executorName: String
    var frameworkID: String
    var source: String
    var statistics: ResourceStatistics

    enum CodingKeys: String, CodingKey {
        case executorID = "executor_id", executorName = "executor_name", frameworkID = "framework_id", source, statistics
    }
}

/// One entry of `/containers` (Mesos 1.0).
struct ContainerEntry: Encodable {
    var containerID: String
    var executorID: String
    var executorName: String
    var frameworkID: String
    var source: String
    var statistics: ResourceStatistics
    var status: ContainerStatus?
    /// Capstan's addition: the GPUs the container holds, with their usage (absent when it holds none).
    var gpus: [ContainerGPU]?

    enum CodingKeys: String, CodingKey {
        case containerID = "container_id", executorID = "executor_id", executorName = "executor_name"
        case frameworkID = "framework_id", source, statistics, status
        case gpus = "capstan_gpus"
    }
}
