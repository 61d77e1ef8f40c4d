import Logging
import CapstanAPI
import CapstanAuth
import CapstanCore
import CapstanHTTP
import CapstanContainerizer
import Foundation

extension Agent {
    /// A container ended: the command task's final state, or every unfinished task of a custom executor fails.
    /// `recovered`: the container was recovered after an agent restart (see ``recoveredOutcome(_:_:_:)``).
    func containerTerminated(
        _ frameworkID: FrameworkID, _ executorID: ExecutorID, _ containerID: ContainerID, _ termination: ContainerTermination,
        recovered: Bool = false
    ) async {
        guard let record = executor(frameworkID, executorID), record.containerID == containerID else { return }
        let killedByHealthCheck = await stopHealthChecks(record)
        let killRequested = executor(frameworkID, executorID)?.state.isTerminating ?? record.state.isTerminating
        modifyExecutor(frameworkID, executorID) { $0.state.terminate()?.connection?.finish() }
        if record.isCommandExecutor {
            for (taskID, task) in record.tasks where !task.state.isTerminal {
                let (state, reason) = Self.finalState(termination, killRequested: killRequested)
                if recovered {
                    // The agent, not the (gone) command executor, reports what the task's monitor kept.
                    let (reason, message) = Self.recoveredOutcome(state, reason, termination)
                    await emit(frameworkID, taskID, state, message: message, reason: reason, source: .sourceAgent)
                    continue
                }
                if let limitation = termination.limitation {
                    // The agent, not the (killed) command executor, reports the limit the container hit, as Mesos does.
                    await emit(
                        frameworkID, taskID, state, message: termination.message, reason: reason, source: .sourceAgent,
                        limitation: Self.resourceLimitation(limitation, task: task.info))
                    continue
                }
                await emit(
                    frameworkID, taskID, state, healthy: killedByHealthCheck && state == .taskKilled ? false : nil,
                    message: termination.message, reason: reason)
            }
        } else {
            for (taskID, task) in record.tasks.merging(record.queued, uniquingKeysWith: { a, _ in a }) where !task.state.isTerminal {
                let limitation = termination.limitation
                await emit(
                    frameworkID, taskID, killRequested && limitation == nil ? .taskKilled : .taskFailed,
                    message: "Executor \(executorID) terminated: \(termination.message)",
                    reason: limitation.map { TaskStatus.Reason($0.reason) } ?? .reasonExecutorTerminated, source: .sourceAgent,
                    limitation: limitation.map { Self.resourceLimitation($0, task: task.info) })
            }
        }
        await finishExecutor(frameworkID, executorID)
    }

    /// The state of a command task from how its process ended.
    static func finalState(_ termination: ContainerTermination, killRequested: Bool) -> (TaskState, TaskStatus.Reason?) {
        if let limitation = termination.limitation { return (.taskFailed, TaskStatus.Reason(limitation.reason)) }
        if termination.killed || killRequested { return (.taskKilled, nil) }
        if termination.exitStatus == 0 { return (.taskFinished, nil) }
        return (.taskFailed, nil)
    }

    /// A task status's `limitation`: the task's own resources of the kind whose limit was hit (e.g. its `mem`).
    static func resourceLimitation(_ limitation: ContainerLimitation, task: TaskInfo) -> TaskResourceLimitation {
        TaskResourceLimitation(resources: task.resources.filter { $0.name == limitation.resource.mesosResourceName })
    }

    /// Moves a finished executor aside once its container is gone.
    func finishExecutor(_ frameworkID: FrameworkID, _ executorID: ExecutorID) async {
        guard var record = frameworks[frameworkID]?.executors.removeValue(forKey: executorID) else { return }
        record.state.terminate()?.connection?.finish()
        record.completed += record.tasks.values
        record.tasks = [:]
        frameworks[frameworkID]?.completedExecutors.append(record)
        if let count = frameworks[frameworkID]?.completedExecutors.count, count > 100 {
            frameworks[frameworkID]?.completedExecutors.removeFirst(count - 100)
        }
        checkpoints.submitRemoval(CheckpointStore.frameworkPath(frameworkID) + "/executors/\(executorID.value).json")
    }

    /// KillTask from the master. A command task whose container is still launching is TASK_KILLED at once (its launch
    /// is cancelled and the container destroyed when it returns); a running one gets TASK_KILLING (when its framework
    /// takes it), then TASK_KILLED once its container has ended.
    public func killTask(_ message: KillTaskMessage) async {
        let frameworkID = message.frameworkID
        guard let executorID = executorID(of: message.taskID, in: frameworkID), let record = executor(frameworkID, executorID)
        else {
            logger.info("Kill for a task this agent does not run", metadata: ["task_id": "\(message.taskID)"])
            return
        }
        let task = record.tasks[message.taskID] ?? record.queued[message.taskID]
        let grace = gracePeriod(message.killPolicy ?? task?.info.killPolicy)
        if record.queued[message.taskID] != nil {
            await emit(frameworkID, message.taskID, .taskKilled, message: "Task killed before its executor started it", source: .sourceAgent)
            return
        }
        if record.isCommandExecutor {
            let action = requestKill(frameworkID, executorID)
            if case .cancelLaunch = action {
                await killedWhileLaunching(frameworkID, executorID)
                return
            }
            await stopHealthChecks(record)
            if case .destroy = action,
                frameworks[frameworkID]?.info.capabilities.contains(where: { $0.type == .taskKillingState }) == true
            {
                await emit(frameworkID, message.taskID, .taskKilling)
            }
            let containerID = record.containerID
            let containerizer = self.containerizer
            Task { _ = await containerizer.destroy(containerID, gracePeriod: grace) }
        } else if let connection = record.state.connection {
            connection.yield(ExecutorEvent(type: .kill, kill: .init(taskID: message.taskID, killPolicy: message.killPolicy)))
        } else {
            if case .cancelLaunch = requestKill(frameworkID, executorID) {
                await killedWhileLaunching(frameworkID, executorID)
                return
            }
            _ = await containerizer.destroy(record.containerID, gracePeriod: grace)
        }
    }

    /// Moves an executor to `terminating` (see ``ExecutorState/requestKill()``). An executor still launching has its
    /// launch cancelled and its container destroyed (the launch ends when that is done); the caller reports its tasks.
    @discardableResult
    func requestKill(_ frameworkID: FrameworkID, _ executorID: ExecutorID) -> ExecutorState.KillAction {
        var action = ExecutorState.KillAction.none
        modifyExecutor(frameworkID, executorID) { action = $0.state.requestKill() }
        if case .cancelLaunch(let launch) = action, let containerID = executor(frameworkID, executorID)?.containerID {
            logger.info(
                "Cancelling a launch", metadata: ["framework_id": "\(frameworkID)", "executor_id": "\(executorID)", "container_id": "\(containerID)"])
            launch.cancel()
            // Marks the container destroyed, so that the launch stops at its next step; the launch reports the end.
            let containerizer = self.containerizer
            Task { _ = await containerizer.destroy(containerID, gracePeriod: .zero) }
        }
        return action
    }

    /// A framework acknowledged an update: the manager sends the next; custom executors hear ACKNOWLEDGED.
    public func acknowledge(_ message: AcknowledgeMessage) async {
        let matched = await statusUpdates.acknowledge(frameworkID: message.frameworkID, taskID: message.taskID, uuid: message.uuid)
        guard matched, let executorID = executorID(of: message.taskID, in: message.frameworkID),
            let record = executor(message.frameworkID, executorID)
        else {
            // A finished executor's task: its checkpoint goes once its last update (the terminal one) is acknowledged.
            if !(await statusUpdates.hasPending(frameworkID: message.frameworkID, taskID: message.taskID)) {
                cleanUpAcknowledgedTask(message.frameworkID, message.taskID)
            }
            return
        }
        if !record.isCommandExecutor {
            record.state.connection?.yield(ExecutorEvent(type: .acknowledged, acknowledged: .init(taskID: message.taskID, uuid: message.uuid)))
        }
        if let task = record.tasks[message.taskID], task.state.isTerminal,
            !(await statusUpdates.hasPending(frameworkID: message.frameworkID, taskID: message.taskID))
        {
            modifyExecutor(message.frameworkID, executorID) {
                if let done = $0.tasks.removeValue(forKey: message.taskID) { $0.completed.append(done) }
            }
            cleanUpAcknowledgedTask(message.frameworkID, message.taskID)
        }
    }

    private func cleanUpAcknowledgedTask(_ frameworkID: FrameworkID, _ taskID: TaskID) {
        let live = liveTasks.contains { $0.frameworkID == frameworkID && $0.info.taskID == taskID }
        if !live { checkpoints.submitRemoval(CheckpointStore.taskPath(frameworkID, taskID) + "/task.json") }
    }

    /// The framework was removed: kill everything it runs here.
    public func shutdownFramework(_ frameworkID: FrameworkID) async {
        guard let framework = frameworks[frameworkID] else { return }
        logger.info("Shutting down framework", metadata: ["framework_id": "\(frameworkID)"])
        await withTaskGroup(of: Void.self) { group in  // in parallel: each may wait out its shutdown grace period
            for executorID in framework.executors.keys { group.addTask { await self.shutdownExecutor(frameworkID, executorID) } }
        }
        await statusUpdates.removeFramework(frameworkID)
        if let record = frameworks.removeValue(forKey: frameworkID) {
            // containerTerminated may find the framework already gone: close the executors' SUBSCRIBE streams here,
            // or their responses stay open forever (and the HTTP server's graceful shutdown waits on them).
            for executor in record.executors.values {
                executor.state.connection?.finish()
                await stopHealthChecks(executor)
            }
            completedFrameworks.append(record)
        }
        checkpoints.removeDirectory(CheckpointStore.frameworkPath(frameworkID))
    }

    /// Shuts one executor down: SHUTDOWN to a custom executor, then the container is destroyed after the grace.
    public func shutdownExecutor(_ frameworkID: FrameworkID, _ executorID: ExecutorID) async {
        guard let record = executor(frameworkID, executorID) else { return }
        if case .cancelLaunch = requestKill(frameworkID, executorID) {
            await killedWhileLaunching(frameworkID, executorID)
            return
        }
        if let connection = record.state.connection {
            // As Mesos does: SHUTDOWN, then destroy the container only if the executor has not exited by itself
            // within the shutdown grace period (MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD), so it can clean up.
            connection.yield(ExecutorEvent(type: .shutdown))
            let containerizer = self.containerizer, containerID = record.containerID
            let exited = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    do { _ = try await containerizer.wait(containerID); return true } catch { return !(error is CancellationError) }
                }
                group.addTask { try? await Task.sleep(for: self.configuration.defaultKillGracePeriod); return false }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            if exited { return }
        }
        _ = await containerizer.destroy(record.containerID, gracePeriod: configuration.defaultKillGracePeriod)
    }

    /// A framework's MESSAGE for an executor.
    public func frameworkMessage(_ message: FrameworkExecutorMessage) {
        executor(message.frameworkID, message.executorID)?.state.connection?.yield(
            ExecutorEvent(type: .message, message: .init(data: message.data)))
    }

    /// Kills every container (agent shutdown with `--kill-on-exit` semantics, as `capstan up` wants).
    public func destroyAll() async {
        isStopping = true
        await containerizer.refuseLaunches()
        for (frameworkID, framework) in frameworks {
            for (executorID, executor) in framework.executors {
                if executor.state.isLaunching {
                    // The launch is cancelled (an image pull stops at once) and its container destroyed at the launch's
                    // next step. The shutdown waits for that end: a launch left to finish after the agent is gone would
                    // leave its task running and its network namespace mounted.
                    requestKill(frameworkID, executorID)
                    _ = await containerizer.destroy(executor.containerID, gracePeriod: .zero)
                    continue
                }
                executor.state.connection?.yield(ExecutorEvent(type: .shutdown))
                _ = await containerizer.destroy(executor.containerID, gracePeriod: .seconds(1))
            }
        }
        // The containerizer starts nothing more; whatever it still holds (a launch that was past the agent's checks,
        // health-check containers) is destroyed too.
        for _ in 0..<10 {
            let left = await containerizer.containers()
            guard !left.isEmpty else { break }
            await withTaskGroup(of: Void.self) { group in
                for id in left { group.addTask { _ = await self.containerizer.destroy(id, gracePeriod: .zero) } }
            }
        }
        closeExecutorStreams()
    }

    /// Ends every executor event stream, so the HTTP server's graceful shutdown does not wait on them.
    public func closeExecutorStreams() {
        for (frameworkID, framework) in frameworks {
            for executorID in framework.executors.keys {
                frameworks[frameworkID]?.executors[executorID]?.state.connection?.finish()
                frameworks[frameworkID]?.executors[executorID]?.state.disconnected()
            }
        }
    }

    // MARK: Helpers

    /// `<work-dir>/slaves/<agent>/frameworks/<fid>/executors/<eid>/runs/<cid>`; every ID was checked at the edge,
    /// and is checked again here so that no path built from IDs leaves the sandboxes' root.
    func sandboxPath(_ frameworkID: FrameworkID, _ executorID: ExecutorID, _ containerID: ContainerID) throws(CapstanError) -> String {
        try SafePath(
            root: configuration.workDir + "/slaves",
            [.id(agentID?.value ?? "unregistered"), "frameworks", .id(frameworkID.value), "executors", .id(executorID.value), "runs", .id(containerID.value)]
        ).path
    }

    func gracePeriod(_ policy: KillPolicy?) -> Duration {
        if let nanos = policy?.gracePeriod?.nanoseconds { return .nanoseconds(max(0, nanos)) }
        return configuration.defaultKillGracePeriod
    }

    func limits(_ resources: [MesosResource]) -> ResourceLimits {
        let parsed = (try? Resources(mesos: resources)) ?? Resources()
        // A persistent volume's `disk` is its own space, not the sandbox's (Mesos' disk/du leaves volumes out too).
        let disk = resources.filter { $0.name == "disk" && $0.disk?.persistence == nil }.reduce(0) { $0 + ($1.scalar?.value ?? 0) }
        return ResourceLimits(
            cpus: parsed.cpus > 0 ? parsed.cpus : nil,
            memBytes: parsed.mem > 0 ? UInt64(parsed.mem * 1024 * 1024) : nil,
            diskBytes: disk > 0 ? UInt64(disk * 1024 * 1024) : nil,
            gpus: parsed.gpus > 0 ? Int(parsed.gpus.rounded(.up)) : nil)
    }

    /// The environment Mesos gives executors and command tasks.
    func environment(frameworkID: FrameworkID, executorID: ExecutorID, sandbox: String, taskID: TaskID?) -> [String: String] {
        let mesos: [String: String] = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "MESOS_SANDBOX": sandbox,
            "MESOS_DIRECTORY": sandbox,
            "MESOS_FRAMEWORK_ID": frameworkID.value,
            "MESOS_EXECUTOR_ID": executorID.value,
            "MESOS_AGENT_ENDPOINT": endpoint.description,
            "MESOS_SLAVE_ID": agentID?.value ?? "",
            "MESOS_AGENT_ID": agentID?.value ?? "",
            "MESOS_SLAVE_PID": "slave(1)@\(endpoint)",
            "MESOS_CHECKPOINT": (frameworks[frameworkID]?.info.checkpoint ?? false) ? "1" : "0",
            "MESOS_RECOVERY_TIMEOUT": "15mins",
            "MESOS_SUBSCRIPTION_BACKOFF_MAX": "2secs",
            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD": "\(Int(configuration.defaultKillGracePeriod.seconds))secs",
            "MESOS_HTTP_COMMAND_EXECUTOR": "0",
        ]
        // As in Mesos without --executor_environment_variables, executors inherit the agent's environment.
        var env = ProcessInfo.processInfo.environment.merging(mesos) { _, mesos in mesos }
        if let taskID { env["MESOS_TASK_ID"] = taskID.value }
        env[ExecutorToken.environmentVariable] = ExecutorToken.make(
            key: executorTokenKey, frameworkID: frameworkID.value, executorID: executorID.value)
        return env
    }

    /// Turns a CommandInfo into what the launcher runs as `user`, with the command's own environment on top.
    /// With `ownLogin` (the task runs as a user of its own, or in an image) the agent's `HOME`, `USER` and `LOGNAME`
    /// are left out, so that the launcher sets them for the task's user; the command's own variables still win.
    func commandSpec(_ command: CommandInfo, environment: [String: String], user: String?, ownLogin: Bool) -> CommandSpec {
        var env = environment
        if ownLogin { for name in Self.loginVariables { env[name] = nil } }
        for variable in command.environment?.variables ?? [] { env[variable.name] = variable.value ?? "" }
        return CommandSpec(
            shell: command.shell ?? true, value: command.value, arguments: command.arguments, environment: env, user: user)
    }
}
