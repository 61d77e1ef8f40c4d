import Logging
import CapstanAPI
import CapstanCore
import CapstanContainerizer
import CapstanHTTP
import Foundation

extension Agent {
    /// Answers one agent operator API call.
    public func operatorCall(_ call: AgentOperatorCall) async throws(CapstanError) -> AgentOperatorResponse {
        switch call.type {
        case .getHealth:
            return AgentOperatorResponse(type: .getHealth, getHealth: .init(healthy: true))
        case .getVersion:
            return AgentOperatorResponse(
                type: .getVersion,
                getVersion: .init(versionInfo: MesosVersionInfo(version: VersionText.mesosAPIVersion, buildDate: "2026-11-25", buildUser: "capstan", gitTag: "capstan-0.1.0")))
        case .getFlags:
            return AgentOperatorResponse(
                type: .getFlags, getFlags: .init(flags: (configuration.flags + isolationFlags).map { MesosFlag(name: $0.0, value: $0.1) }))
        case .getState:
            return AgentOperatorResponse(
                type: .getState,
                getState: .init(getTasks: getTasks(), getExecutors: getExecutors(), getFrameworks: getFrameworks()))
        case .getContainers:
            return AgentOperatorResponse(type: .getContainers, getContainers: await getContainers())
        case .getFrameworks:
            return AgentOperatorResponse(type: .getFrameworks, getFrameworks: getFrameworks())
        case .getExecutors:
            return AgentOperatorResponse(type: .getExecutors, getExecutors: getExecutors())
        case .getTasks:
            return AgentOperatorResponse(type: .getTasks, getTasks: getTasks())
        case .listFiles, .readFile:
            return try await fileCall(call)
        case .getMetrics:
            if let timeout = call.getMetrics?.timeout, timeout.nanoseconds < 0 {
                throw CapstanError(.invalidArgument, "get_metrics.timeout.nanoseconds must be >= 0 (it was \(timeout.nanoseconds))")
            }
            return AgentOperatorResponse(
                type: .getMetrics,
                getMetrics: .init(metrics: metricsSnapshot().sorted { $0.key < $1.key }.map { MesosMetric(name: $0.key, value: $0.value) }))
        case .getLoggingLevel:
            return AgentOperatorResponse(type: .getLoggingLevel, getLoggingLevel: .init(level: LogLevelControl.shared.verbosity))
        default:
            throw CapstanError(.unsupported, "Agent operator call \(call.type?.rawValue ?? "UNKNOWN") is not supported")
        }
    }

    /// The isolation every container gets, as GET_FLAGS reports it: `isolation` lists the active isolators (as Mesos'
    /// flag of that name), `isolation_unavailable` each one this machine cannot offer and why (`none` when all run).
    var isolationFlags: [(String, String)] {
        [
            ("isolation", isolation.names.isEmpty ? "none" : isolation.names.joined(separator: ",")),
            ("isolation_unavailable", isolation.unavailable.isEmpty ? "none" : isolation.unavailable.joined(separator: "; ")),
        ]
    }

    func getTasks() -> AgentOperatorResponse.GetTasks {
        var queued: [MesosTask] = []
        var launched: [MesosTask] = []
        var terminated: [MesosTask] = []
        var completed: [MesosTask] = []
        for framework in frameworks.values.sorted(by: { $0.id < $1.id }) {
            for executor in framework.executors.values.sorted(by: { $0.info.executorID < $1.info.executorID }) {
                let directory = executor.sandbox
                queued += executor.queued.values.sorted { $0.info.taskID < $1.info.taskID }.map { $0.wire(agentID: agentID, directory: directory) }
                for task in executor.tasks.values.sorted(by: { $0.info.taskID < $1.info.taskID }) {
                    let wire = task.wire(agentID: agentID, directory: directory)
                    if task.state.isTerminal { terminated.append(wire) } else { launched.append(wire) }
                }
                completed += executor.completed.map { $0.wire(agentID: agentID, directory: directory) }
            }
            for executor in framework.completedExecutors {
                completed += (executor.completed + executor.tasks.values).map { $0.wire(agentID: agentID, directory: executor.sandbox) }
            }
        }
        return AgentOperatorResponse.GetTasks(
            pendingTasks: [], queuedTasks: queued, launchedTasks: launched, terminatedTasks: terminated, completedTasks: completed)
    }

    func getExecutors() -> AgentOperatorResponse.GetExecutors {
        AgentOperatorResponse.GetExecutors(
            executors: frameworks.values.flatMap { $0.executors.values.map { .init(executorInfo: $0.info) } },
            completedExecutors: frameworks.values.flatMap { $0.completedExecutors.map { .init(executorInfo: $0.info) } })
    }

    func getFrameworks() -> AgentOperatorResponse.GetFrameworks {
        AgentOperatorResponse.GetFrameworks(
            frameworks: frameworks.values.sorted { $0.id < $1.id }.map { .init(frameworkInfo: $0.info) },
            completedFrameworks: completedFrameworks.map { .init(frameworkInfo: $0.info) })
    }

    func getContainers() async -> AgentOperatorResponse.GetContainers {
        var containers: [AgentOperatorResponse.GetContainers.Container] = []
        for framework in frameworks.values.sorted(by: { $0.id < $1.id }) {
            for executor in framework.executors.values.sorted(by: { $0.info.executorID < $1.info.executorID }) where !executor.state.isTerminated {
                let usage = try? await containerizer.usage(executor.containerID)
                let limits = limits(executor.info.resources + executor.tasks.values.flatMap(\.info.resources))
                let statistics = usage.map { stats in
                    CapstanAPI.ResourceStatistics(
                        timestamp: stats.timestamp, processes: stats.processes.map { UInt32(clamping: $0) },
                        cpusUserTimeSecs: stats.cpusUserTimeSecs, cpusSystemTimeSecs: stats.cpusSystemTimeSecs,
                        cpusLimit: limits.cpus, cpusNrPeriods: stats.cpusNrPeriods.map { UInt32(clamping: $0) },
                        cpusNrThrottled: stats.cpusNrThrottled.map { UInt32(clamping: $0) },
                        cpusThrottledTimeSecs: stats.cpusThrottledTimeSecs, memTotalBytes: stats.memTotalBytes,
                        memLimitBytes: limits.memBytes, memRssBytes: stats.memRSSBytes,
                        diskLimitBytes: limits.diskBytes, diskUsedBytes: stats.diskUsedBytes)
                }
                containers.append(
                    .init(
                        frameworkID: framework.id, executorID: executor.info.executorID,
                        executorName: executor.info.name ?? "", containerID: executor.containerID,
                        containerStatus: ContainerStatus(
                            containerID: executor.containerID, networkInfos: executor.networkInfos,
                            executorPID: await containerizer.pid(of: executor.containerID).map(UInt32.init)),
                        resourceStatistics: statistics, directory: executor.sandbox))
            }
        }
        let gpus = await containerGPUs(containers.map(\.containerID))
        for index in containers.indices { containers[index].gpus = gpus[containers[index].containerID] }
        return AgentOperatorResponse.GetContainers(containers: containers)
    }
}

extension Agent {
    /// SET_LOGGING_LEVEL, answered with an empty 200: the process's level for the call's duration.
    public func setLoggingLevel(_ body: OperatorCall.SetLoggingLevel?) throws(CapstanError) {
        guard let body else { throw CapstanError(.invalidArgument, "SET_LOGGING_LEVEL needs 'set_logging_level'") }
        let duration = try LogLevelControl.duration(nanoseconds: body.duration.nanoseconds, field: "set_logging_level.duration")
        LogLevelControl.shared.set(verbosity: body.level, for: duration)
        logger.notice("Logging level changed", metadata: ["level": "\(body.level)", "duration_secs": "\(duration.seconds)"])
    }
}
