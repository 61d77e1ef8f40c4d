import CapstanAPI
import CapstanContainerizer
import CapstanCore
import CapstanHTTP
import Foundation
import Logging

/// Run-task: the agent checks the master's message and records the executor at once (the master's request is answered
/// then), and launches the executor's container in a task it owns (``ExecutorState/launching(task:)``), as Mesos' agent
/// does: a slow image pull no longer holds the master's request, a kill or shutdown during the launch cancels it, and a
/// launch that fails reaches the framework as TASK_FAILED (REASON_CONTAINER_LAUNCH_FAILED, the message naming what
/// failed).
extension Agent {
    /// RunTask from the master: a command task runs under the built-in command executor; a task with an ExecutorInfo
    /// goes to that executor, started first if it is not running. Returns once the task is recorded (TASK_STAGING);
    /// TASK_STARTING, TASK_RUNNING or TASK_FAILED follow as status updates.
    /// - Throws: `invalidArgument` naming the field, for a message the agent cannot run.
    public func runTask(_ message: RunTaskMessage) throws(CapstanError) {
        guard let frameworkID = message.framework.id else {
            throw CapstanError(.invalidArgument, "RunTask has no 'framework.id'")
        }
        let info = message.task
        guard !isStopping else {
            throw CapstanError(.unavailable, "the agent is stopping and killing its tasks; task '\(info.taskID)' was not started")
        }
        // Every ID that becomes part of a sandbox or checkpoint path is checked here, at the edge.
        try frameworkID.checkPathSafe(field: "framework.id")
        try info.taskID.checkPathSafe(field: "task.task_id")
        if let executorID = info.executor?.executorID { try executorID.checkPathSafe(field: "task.executor.executor_id") }
        if frameworks[frameworkID] == nil {
            frameworks[frameworkID] = AgentFrameworkRecord(info: message.framework)
            checkpoints.submit(message.framework, to: CheckpointStore.frameworkPath(frameworkID) + "/framework.json")
        } else {
            frameworks[frameworkID]?.info = message.framework
        }
        if executorID(of: info.taskID, in: frameworkID) != nil {
            logger.warning("Ignoring a duplicate RunTask", metadata: ["task_id": "\(info.taskID)"])
            return
        }

        if let executorInfo = info.executor {
            try runWithCustomExecutor(info, executorInfo: executorInfo, frameworkID: frameworkID)
        } else {
            try runCommandTask(info, frameworkID: frameworkID)
        }
    }

    private func runCommandTask(_ info: TaskInfo, frameworkID: FrameworkID) throws(CapstanError) {
        let executorID = ExecutorID(info.taskID.value)
        let containerID = ContainerID(UUID().uuidString.lowercased())
        let sandbox = try sandboxPath(frameworkID, executorID, containerID)
        var executorInfo = ExecutorInfo(
            type: .default, executorID: executorID, frameworkID: frameworkID,
            command: info.command, resources: [], name: "Command Executor (Task: \(info.taskID)) (Command: \(info.command?.value ?? ""))",
            source: info.taskID.value)
        executorInfo.container = info.container
        // The launch runs on this actor once this call has returned (the record below is in place by then).
        let launch = Task { await self.launchCommandTask(info, frameworkID: frameworkID, containerID: containerID, sandbox: sandbox) }
        var record = ExecutorRecord(
            info: executorInfo, frameworkID: frameworkID, containerID: containerID, sandbox: sandbox,
            isCommandExecutor: true, usesImage: info.container?.imageReference != nil, state: .launching(task: launch))
        record.tasks[info.taskID] = AgentTaskRecord(
            info: info, frameworkID: frameworkID, executorID: executorID, state: .taskStaging)
        frameworks[frameworkID]?.executors[executorID] = record
        checkpointTask(frameworkID, executorID, info.taskID)
    }

    /// The command task's launch: TASK_STARTING, the container (the containerizer provisions its image), then
    /// TASK_RUNNING and health checks.
    private func launchCommandTask(_ info: TaskInfo, frameworkID: FrameworkID, containerID: ContainerID, sandbox: String) async {
        let executorID = ExecutorID(info.taskID.value)
        let reference = info.container?.imageReference
        do {
            // A kill may come before this task first runs: the task is TASK_KILLED then, and never STARTING.
            try checkStillLaunching(frameworkID, executorID, containerID)
            let networks: [ContainerNetwork]
            do { networks = try Self.containerNetworks(info, frameworkID: frameworkID) } catch {
                await launchEnded(frameworkID, executorID, containerID, failure: error.message, as: .refused)
                return
            }
            if let unknown = await unknownNetworkMessage(networks) {
                await launchEnded(frameworkID, executorID, containerID, failure: unknown, as: .refused)
                return
            }
            let volumes: [ContainerVolume]
            do { volumes = try Self.containerVolumes(info.container, prefix: "task.container", policy: configuration.hostPaths) } catch {
                await launchEnded(frameworkID, executorID, containerID, failure: error.message, as: .refused)
                return
            }
            let persistent: [ContainerVolume]
            do { persistent = try persistentVolumes(info.resources) } catch {
                await launchEnded(frameworkID, executorID, containerID, failure: error.message, as: .refused)
                return
            }
            // An unknown CDI device is a failed launch (TASK_FAILED), as Mesos fails a launch whose isolator refuses.
            let cdiDevices: [CDIDeviceName]
            do { cdiDevices = try requestedCDIDevices(info) } catch {
                await launchEnded(frameworkID, executorID, containerID, failure: "Failed to launch the task: \(error.message)")
                return
            }
            try checkStillLaunching(frameworkID, executorID, containerID)
            await emit(frameworkID, info.taskID, .taskStarting)
            try checkStillLaunching(frameworkID, executorID, containerID)
            try FileManager.default.createDirectory(atPath: sandbox, withIntermediateDirectories: true)
            let command = info.command ?? CommandInfo()
            let user = runAsUser(info.command, frameworkID: frameworkID)
            var config = ContainerConfig(
                containerID: containerID,
                command: commandSpec(
                    command,
                    environment: environment(frameworkID: frameworkID, executorID: executorID, sandbox: sandbox, taskID: info.taskID),
                    user: user, ownLogin: user != nil || reference != nil),
                sandboxDirectory: sandbox,
                limits: limits(info.resources))
            config.volumes = persistent + Self.sandboxPaths(volumes, onto: persistent)
            config.cdiDevices = cdiDevices
            // CDI devices run a command task under capstan-init; like any command task it keeps the host's network.
            if !cdiDevices.isEmpty { config.networkMode = .host }
            if let reference {
                // The containerizer provisions the image (pull, unpack, layer lease); Mesos: no NetworkInfo means
                // the host's network.
                config.image = ContainerImage(reference: reference)
                config.hostname = info.container?.hostname
                config.networkMode = (info.container?.networkInfos.isEmpty ?? true) ? .host : .isolated
            }
            if !networks.isEmpty {
                // A command task without an image joins its networks too, from a namespace of its own.
                config.networks = networks
                config.networkMode = .isolated
            }
            await checkpoints.flush()  // the task's checkpoint names this container before the container exists
            try await containerizer.launch(config)
        } catch {
            await launchEnded(
                frameworkID, executorID, containerID,
                failure: "Failed to launch the task\(reference.map { " from image \($0)" } ?? ""): \(error)")
            return
        }
        guard await launchReturned(frameworkID, executorID, containerID) else { return }
        let attachments = await containerizer.networks(of: containerID)
        if !attachments.isEmpty {
            let infos = Self.networkInfos(attachments, requested: info.container?.networkInfos ?? [])
            modifyExecutor(frameworkID, executorID) { $0.networkInfos = infos }
        }
        await emit(frameworkID, info.taskID, .taskRunning)
        await startHealthChecks(frameworkID, executorID, info.taskID)
    }

    private func runWithCustomExecutor(_ info: TaskInfo, executorInfo: ExecutorInfo, frameworkID: FrameworkID) throws(CapstanError) {
        let executorID = executorInfo.executorID
        let task = AgentTaskRecord(info: info, frameworkID: frameworkID, executorID: executorID, state: .taskStaging)
        if let existing = executor(frameworkID, executorID), !existing.state.isTerminated {
            if let connection = existing.state.connection {
                modifyExecutor(frameworkID, executorID) { $0.tasks[info.taskID] = task }
                connection.yield(ExecutorEvent(type: .launch, launch: .init(task: info)))
            } else {
                modifyExecutor(frameworkID, executorID) { $0.queued[info.taskID] = task }
            }
            checkpointTask(frameworkID, executorID, info.taskID)
            return
        }

        let containerID = ContainerID(UUID().uuidString.lowercased())
        let sandbox = try sandboxPath(frameworkID, executorID, containerID)
        var info2 = executorInfo
        info2.frameworkID = frameworkID
        let launch = Task {
            await self.launchCustomExecutor(
                info2, resources: executorInfo.resources + info.resources, containerID: containerID, sandbox: sandbox, firstTask: info)
        }
        var record = ExecutorRecord(
            info: info2, frameworkID: frameworkID, containerID: containerID, sandbox: sandbox, isCommandExecutor: false,
            state: .launching(task: launch))
        record.queued[info.taskID] = task
        frameworks[frameworkID]?.executors[executorID] = record
        checkpoints.submit(info2, to: CheckpointStore.frameworkPath(frameworkID) + "/executors/\(executorID.value).json")
        checkpointTask(frameworkID, executorID, info.taskID)
    }

    /// A custom executor's launch: its container, then the wait for it to subscribe. The container gets the CDI
    /// devices `firstTask` (the task that starts the executor) asks for: the executor runs that task and the later
    /// ones in the same container.
    private func launchCustomExecutor(
        _ executorInfo: ExecutorInfo, resources: [MesosResource], containerID: ContainerID, sandbox: String, firstTask: TaskInfo
    ) async {
        let executorID = executorInfo.executorID
        let frameworkID = executorInfo.frameworkID ?? FrameworkID("")
        do {
            try checkStillLaunching(frameworkID, executorID, containerID)
            let volumes: [ContainerVolume]
            do { volumes = try Self.containerVolumes(executorInfo.container, prefix: "executor.container", policy: configuration.hostPaths) } catch {
                await launchEnded(frameworkID, executorID, containerID, failure: error.message, as: .refused)
                return
            }
            try FileManager.default.createDirectory(atPath: sandbox, withIntermediateDirectories: true)
            let user = runAsUser(executorInfo.command, frameworkID: frameworkID)
            var config = ContainerConfig(
                containerID: containerID,
                command: commandSpec(
                    executorInfo.command ?? CommandInfo(),
                    environment: environment(frameworkID: frameworkID, executorID: executorID, sandbox: sandbox, taskID: nil),
                    user: user, ownLogin: user != nil),
                sandboxDirectory: sandbox,
                limits: limits(resources))
            config.volumes = volumes
            config.cdiDevices = try requestedCDIDevices(firstTask)
            // CDI devices run the executor under capstan-init; it keeps the host's network to reach this agent.
            if !config.cdiDevices.isEmpty { config.networkMode = .host }
            await checkpoints.flush()  // the executor's and its tasks' checkpoints are on disk before its container exists
            try await containerizer.launch(config)
        } catch {
            await launchEnded(frameworkID, executorID, containerID, failure: "Failed to launch executor \(executorID): \(error)")
            return
        }
        guard await launchReturned(frameworkID, executorID, containerID) else { return }
        logger.info("Executor launched", metadata: ["framework_id": "\(frameworkID)", "executor_id": "\(executorID)"])
        let timeout = configuration.executorRegistrationTimeout
        Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.registrationTimedOut(frameworkID, executorID, containerID)
        }
    }

    private func registrationTimedOut(_ frameworkID: FrameworkID, _ executorID: ExecutorID, _ containerID: ContainerID) async {
        guard let record = executor(frameworkID, executorID), record.containerID == containerID,
            record.state.connection == nil, !record.state.isTerminated, record.tasks.isEmpty
        else { return }
        logger.warning("Executor did not subscribe in time; killing it", metadata: ["executor_id": "\(executorID)"])
        for taskID in record.queued.keys {
            await emit(
                frameworkID, taskID, .taskFailed, message: "Executor \(executorID) did not subscribe within the registration timeout",
                reason: .reasonExecutorRegistrationTimeout, source: .sourceAgent)
        }
        _ = await containerizer.destroy(containerID, gracePeriod: .zero)
    }

    // MARK: How a launch ends

    /// Throws when the executor is no longer launching this container: a kill or shutdown came before the launch began.
    private func checkStillLaunching(_ frameworkID: FrameworkID, _ executorID: ExecutorID, _ containerID: ContainerID) throws(CapstanError) {
        guard let record = executor(frameworkID, executorID), record.containerID == containerID, case .launching = record.state else {
            throw CapstanError(.conflict, "the executor was killed before its container was launched")
        }
    }

    /// The containerizer launched the container. Answers whether the executor runs on; when it does not (a kill came
    /// during the launch, or its framework was shut down), its container is destroyed.
    private func launchReturned(_ frameworkID: FrameworkID, _ executorID: ExecutorID, _ containerID: ContainerID) async -> Bool {
        let pid = await containerizer.pid(of: containerID)
        guard var record = executor(frameworkID, executorID), record.containerID == containerID else {
            logger.info(
                "Destroying a container whose executor went away while it launched",
                metadata: ["framework_id": "\(frameworkID)", "executor_id": "\(executorID)", "container_id": "\(containerID)"])
            _ = await containerizer.destroy(containerID, gracePeriod: .zero)
            return false
        }
        let runsOn = record.state.launched(pid: pid)
        frameworks[frameworkID]?.executors[executorID] = record
        for taskID in Array(record.tasks.keys) + Array(record.queued.keys) { checkpointTask(frameworkID, executorID, taskID) }
        watch(frameworkID, executorID, containerID)
        if !runsOn {
            logger.info("Destroying a container killed while it launched", metadata: ["container_id": "\(containerID)"])
            let containerizer = self.containerizer, grace = gracePeriod(nil)
            Task { _ = await containerizer.destroy(containerID, gracePeriod: grace) }
        }
        return runsOn
    }

    /// How a launch that did not run ends for its tasks.
    enum LaunchEnd {
        /// The container could not be launched: TASK_FAILED (REASON_CONTAINER_LAUNCH_FAILED).
        case failed
        /// The agent cannot run the task as asked (its networks): TASK_ERROR (REASON_TASK_INVALID).
        case refused
    }

    /// The launch failed or was refused, or a kill cut it short: each unfinished task ends, TASK_KILLED after a kill,
    /// else as `end` says with `failure` as its message; then the executor is finished without a container.
    private func launchEnded(
        _ frameworkID: FrameworkID, _ executorID: ExecutorID, _ containerID: ContainerID, failure: String, as end: LaunchEnd = .failed
    ) async {
        guard let record = executor(frameworkID, executorID), record.containerID == containerID else { return }
        if record.state.isTerminating {
            await killedWhileLaunching(frameworkID, executorID)
        } else {
            logger.warning(
                end == .failed ? "Launch failed" : "Refusing a task",
                metadata: ["framework_id": "\(frameworkID)", "executor_id": "\(executorID)", "error": "\(failure)"])
            modifyExecutor(frameworkID, executorID) { $0.state.terminate() }
            let (state, reason): (TaskState, TaskStatus.Reason) =
                end == .failed ? (.taskFailed, .reasonContainerLaunchFailed) : (.taskError, .reasonTaskInvalid)
            for taskID in unfinishedTasks(frameworkID, executorID) {
                await emit(frameworkID, taskID, state, message: failure, reason: reason, source: .sourceAgent)
            }
        }
        await finishExecutor(frameworkID, executorID)
    }

    /// TASK_KILLED for every unfinished task of an executor killed while its container launched, as Mesos' agent reports
    /// the tasks of an executor that has not registered: at once, while the container is destroyed behind it.
    func killedWhileLaunching(_ frameworkID: FrameworkID, _ executorID: ExecutorID) async {
        for taskID in unfinishedTasks(frameworkID, executorID) {
            await emit(frameworkID, taskID, .taskKilled, message: "Task killed while its container was launching", source: .sourceAgent)
        }
    }

    /// The executor's tasks (handed over or queued) that have not reached a terminal state, sorted.
    private func unfinishedTasks(_ frameworkID: FrameworkID, _ executorID: ExecutorID) -> [TaskID] {
        guard let record = executor(frameworkID, executorID) else { return [] }
        return (Array(record.tasks.values) + Array(record.queued.values)).filter { !$0.state.isTerminal }.map(\.info.taskID).sorted()
    }

    /// Waits for a container to end and reports it.
    func watch(_ frameworkID: FrameworkID, _ executorID: ExecutorID, _ containerID: ContainerID) {
        let containerizer = self.containerizer
        Task { [weak self] in
            let termination = (try? await containerizer.wait(containerID)) ?? ContainerTermination(message: "Container is gone")
            await self?.containerTerminated(frameworkID, executorID, containerID, termination)
        }
    }
}

extension Agent {
    /// The CDI devices a task asks for in its ``TaskLabel/cdiDevices`` label, checked against the agent's CDI specs.
    /// - Throws: `invalidArgument` for a name that is not fully qualified; `notFound` for a device the agent does not
    ///   have, naming it and listing the agent's CDI devices (or saying it has none).
    func requestedCDIDevices(_ info: TaskInfo) throws(CapstanError) -> [CDIDeviceName] {
        guard let label = info.labels?.labels.first(where: { $0.key == TaskLabel.cdiDevices }) else { return [] }
        do {
            let names = try CDIDeviceRequest.parse(label.value ?? "")
            try configuration.cdi.checkRequested(names)
            return names
        } catch let error as CapstanError {
            throw CapstanError(error.code, "task \(info.taskID) asks for CDI devices (label \(TaskLabel.cdiDevices)): \(error.message)")
        } catch {
            throw CapstanError(.internal, "task \(info.taskID): \(error)")
        }
    }
}
