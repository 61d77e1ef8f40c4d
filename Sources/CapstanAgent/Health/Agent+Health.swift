import CapstanAPI
import CapstanContainerizer
import CapstanCore
import Foundation
import Logging

/// Task health checks, as Mesos' command executor runs them for its task: the agent is that executor here.
///
/// - the first healthy result, and the first one after failures, send TASK_RUNNING with `healthy: true`;
/// - every failure outside the grace period sends TASK_RUNNING with `healthy: false`;
/// - `consecutive_failures` failures in a row kill the task (TASK_KILLING first when the framework takes it);
///   its terminal update (TASK_KILLED) then carries `healthy: false`;
/// - checking stops when the task is killed or its container ends.
extension Agent {
    /// Starts health-checking a command task that just reached TASK_RUNNING, when its TaskInfo has a health check.
    /// A check Mesos would reject is logged and the task runs unchecked (as Mesos' executor does).
    func startHealthChecks(_ frameworkID: FrameworkID, _ executorID: ExecutorID, _ taskID: TaskID) async {
        guard let record = executor(frameworkID, executorID), record.isCommandExecutor, case .running(let running) = record.state,
            running.healthChecker == nil, let task = record.tasks[taskID],
            let check = task.info.healthCheck
        else { return }
        var logger = self.logger
        logger[metadataKey: "framework_id"] = "\(frameworkID)"
        logger[metadataKey: "task_id"] = "\(taskID)"
        logger[metadataKey: "container_id"] = "\(record.containerID)"
        let probe: HealthProbe
        do {
            probe = try HealthProbe(check)
        } catch {
            logger.error("The task's health check is invalid; the task runs without one", metadata: ["error": "\(error.message)"])
            return
        }
        let containerID = record.containerID
        let checker = TaskHealthChecker(
            settings: HealthPolicy.Settings(check), probe: healthProbe(probe, record: record, task: task.info, logger: logger),
            report: { [weak self] decision, message in
                await self?.healthChecked(frameworkID, executorID, containerID, taskID, decision, message) ?? false
            },
            logger: logger)
        modifyExecutor(frameworkID, executorID) { $0.state.startedHealthChecks(checker) }
        await checker.start()
    }

    /// Stops a task's health checks; answers whether they had killed the task.
    @discardableResult
    func stopHealthChecks(_ record: ExecutorRecord) async -> Bool {
        guard let checker = record.state.healthChecker else { return false }
        let killed = await checker.stop()
        try? FileManager.default.removeItem(atPath: healthScratchDirectory(record.containerID))
        return killed
    }

    /// How one probe of a task runs.
    private func healthProbe(
        _ probe: HealthProbe, record: ExecutorRecord, task: TaskInfo, logger: Logger
    ) -> TaskHealthChecker.Probe {
        // A task with a network namespace of its own (from an image, or on CNI networks) is probed from inside it.
        if !(task.container?.networkInfos.isEmpty ?? true), probe.isNetworkProbe, record.usesImage || !record.networkInfos.isEmpty {
            return inNetworkNamespace(probe, record: record, logger: logger)
        }
        switch probe {
        case .http("https", _, _, _):
            // Through curl -k, as Mesos does: a task's certificate is not verified.
            return onHost(probe, record: record, logger: logger)
        case .http(let scheme, let port, let path, let statuses):
            return { timeout in await HealthProbe.getHTTP(scheme: scheme, port: port, path: path, statuses: statuses, timeout: timeout) }
        case .tcp(let port):
            return { timeout in await HealthProbe.connectTCP(port: port, timeout: timeout) }
        case .command(let command):
            // The task's environment (MESOS_* and its command's variables) under the check command's own variables;
            // it runs as the task's user. CommandInfo.user and uris of the check are ignored, as Mesos does.
            var environment = environment(
                frameworkID: record.frameworkID, executorID: record.info.executorID, sandbox: record.sandbox, taskID: task.taskID)
            for variable in task.command?.environment?.variables ?? [] { environment[variable.name] = variable.value ?? "" }
            let sandbox = record.sandbox
            if record.usesImage {
                // Inside the task's container (its namespaces, root filesystem, working directory and user), entered
                // through the containerizer at each probe; it sees the sandbox where the task does.
                environment["MESOS_SANDBOX"] = LinuxLauncher.sandboxTarget
                let spec = commandSpec(command, environment: environment, user: nil, ownLogin: true)
                let containerizer = self.containerizer, containerID = record.containerID
                return { timeout in
                    let inside: CommandSpec
                    do { inside = try await containerizer.commandInside(containerID, spec) } catch {
                        return .failed("Failed to enter the task's container: \((error as? CapstanError)?.message ?? "\(error)")")
                    }
                    return await HealthProbe.runCommand(inside, sandbox: sandbox, timeout: timeout, logger: logger)
                }
            }
            let user = runAsUser(task.command, frameworkID: record.frameworkID)
            let checkCommand = commandSpec(command, environment: environment, user: user, ownLogin: user != nil)
            return { timeout in await HealthProbe.runCommand(checkCommand, sandbox: sandbox, timeout: timeout, logger: logger) }
        }
    }

    /// An HTTP or TCP probe run inside the network namespace of a container with a network of its own, which the
    /// containerizer names at each probe.
    private func inNetworkNamespace(_ probe: HealthProbe, record: ExecutorRecord, logger: Logger) -> TaskHealthChecker.Probe {
        let containerizer = self.containerizer, containerID = record.containerID
        let scratch = healthScratchDirectory(record.containerID)
        // On CNI networks the task is reached on its own (first) address there, as peers reach it.
        let address = record.networkInfos.lazy.flatMap(\.ipAddresses).compactMap(\.ipAddress).first ?? "127.0.0.1"
        return { timeout in
            guard let pid = await containerizer.namespaces(of: containerID) else {
                return .failed("The task's container has no running init process to probe from")
            }
            do {
                try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            } catch {
                return .failed("Failed to create the health check directory \(scratch): \(error)")
            }
            return await probe.runInNetworkNamespace(of: pid, address: address, scratch: scratch, timeout: timeout, logger: logger)
        }
    }

    /// An HTTP or TCP probe run as a host program (curl, bash) in the agent's network namespace.
    private func onHost(_ probe: HealthProbe, record: ExecutorRecord, logger: Logger) -> TaskHealthChecker.Probe {
        let scratch = healthScratchDirectory(record.containerID)
        return { timeout in
            do {
                try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            } catch {
                return .failed("Failed to create the health check directory \(scratch): \(error)")
            }
            return await probe.runInNetworkNamespace(of: nil, scratch: scratch, timeout: timeout, logger: logger)
        }
    }

    /// Where probes run as host programs leave their (removed) output.
    private func healthScratchDirectory(_ containerID: ContainerID) -> String {
        "\(configuration.workDir)/health/\(containerID.value)"
    }

    /// Carries out a health decision for a task; answers whether the task is still running (checks go on).
    private func healthChecked(
        _ frameworkID: FrameworkID, _ executorID: ExecutorID, _ containerID: ContainerID, _ taskID: TaskID,
        _ decision: HealthPolicy.Decision, _ message: String
    ) async -> Bool {
        // As Mesos' executor: no health update once the task is being killed or has ended.
        guard let record = executor(frameworkID, executorID), record.containerID == containerID, case .running = record.state,
            let task = record.tasks[taskID], task.state == .taskRunning
        else { return false }
        switch decision {
        case .none:
            return true
        case .report(let healthy):
            await emitHealth(frameworkID, executorID, task, healthy: healthy, message: message)
            return true
        case .reportUnhealthyAndKill:
            await emitHealth(frameworkID, executorID, task, healthy: false, message: message)
            logger.warning(
                "Killing the task: its health check failed too many times in a row",
                metadata: ["framework_id": "\(frameworkID)", "task_id": "\(taskID)", "result": "\(message)"])
            modifyExecutor(frameworkID, executorID) { _ = $0.state.requestKill() }
            if frameworks[frameworkID]?.info.capabilities.contains(where: { $0.type == .taskKillingState }) == true {
                await emit(frameworkID, taskID, .taskKilling)
            }
            let containerizer = self.containerizer
            let grace = gracePeriod(task.info.killPolicy)
            Task { _ = await containerizer.destroy(containerID, gracePeriod: grace) }
            return false
        }
    }

    /// A TASK_RUNNING update with `healthy` set, built on the task's latest status so everything else it carried stays.
    private func emitHealth(
        _ frameworkID: FrameworkID, _ executorID: ExecutorID, _ task: AgentTaskRecord, healthy: Bool, message: String
    ) async {
        guard let executor = executor(frameworkID, executorID) else { return }
        var status = task.statuses.last { $0.state == .taskRunning }
            ?? TaskStatus(
                taskID: task.info.taskID, state: .taskRunning, source: .sourceExecutor, agentID: agentID, executorID: executorID,
                containerStatus: ContainerStatus(containerID: executor.containerID))
        status.state = .taskRunning
        status.healthy = healthy
        status.message = (healthy ? "Health check passed: " : "Health check failed: ") + message
        status.reason = .reasonTaskHealthCheckStatusUpdated
        status.source = .sourceExecutor
        status.timestamp = Date().timeIntervalSince1970
        status.uuid = Base64Bytes(Self.newUUID())
        await record(status, frameworkID: frameworkID, executorID: executorID)
    }

    /// Like ``emit(_:_:_:message:reason:source:)`` but with `healthy` set: the terminal update of a task that its
    /// health check killed says `healthy: false`, as Mesos' command executor does.
    func emit(
        _ frameworkID: FrameworkID, _ taskID: TaskID, _ state: TaskState, healthy: Bool?, message: String?,
        reason: TaskStatus.Reason?
    ) async {
        guard let healthy else {
            await emit(frameworkID, taskID, state, message: message, reason: reason)
            return
        }
        guard let executorID = executorID(of: taskID, in: frameworkID), let executor = executor(frameworkID, executorID) else {
            return
        }
        let status = TaskStatus(
            taskID: taskID, state: state, message: message, source: .sourceExecutor, reason: reason, agentID: agentID,
            executorID: executorID, timestamp: Date().timeIntervalSince1970, uuid: Base64Bytes(Self.newUUID()),
            healthy: healthy, containerStatus: ContainerStatus(containerID: executor.containerID))
        await record(status, frameworkID: frameworkID, executorID: executorID)
    }
}
