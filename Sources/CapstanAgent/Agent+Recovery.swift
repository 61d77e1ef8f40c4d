import CapstanAPI
import CapstanContainerizer
import CapstanCore
import Foundation
import Logging

extension Agent {
    /// Recovers from checkpoints at start-up, before the agent registers: its ID, unacknowledged status updates, and
    /// the tasks it ran.
    ///
    /// The containerizer recovers its checkpointed containers: a `capstan-init` monitor (or a plain task's session
    /// leader) that still runs with the checkpointed pid and start time is adopted and watched again; one that ended
    /// while the agent was down reports the exit status `capstan-init` kept, or fails the task with a message saying
    /// the status is unknown. Containers the agent has no task for are destroyed. The tasks go back into the agent's
    /// records, so that re-registration reports them to the master, and their terminal update follows when they end.
    /// A checkpoint that is there but does not decode stops recovery with an error naming its path, as Mesos refuses
    /// to start on a corrupt `meta/`.
    public func recover() async throws {
        let checkpointed = try await RecoveredCheckpoints.read(from: checkpoints.store)
        if let recoveredID = checkpointed.agentID {
            agentID = recoveredID
            logger.info("Recovered agent ID from checkpoint", metadata: ["agent_id": "\(recoveredID)"])
        }
        do {
            checkpointedResources = try Resources(mesos: checkpointed.resources)
        } catch {
            throw CapstanError(
                .failedPrecondition, "Checkpoint \(checkpoints.store.root)/resources.json holds invalid reservations or volumes; move it aside or restore it",
                cause: error)
        }
        for base in checkpointed.ignored {
            logger.warning("Ignoring a task checkpoint with an ID that is not path-safe", metadata: ["checkpoint": "\(base)"])
        }
        let unfinished = checkpointed.unfinished
        await statusUpdates.recover(checkpointed.streams)

        let known = Set(unfinished.compactMap(\.containerID))
        var recovered: Set<ContainerID> = []
        do {
            let result = try await containerizer.recover(knownContainers: known)
            recovered = Set(result.recovered)
            if !result.orphans.isEmpty {
                logger.warning("Destroyed orphaned containers", metadata: ["containers": "\(result.orphans.map(\.value))"])
            }
        } catch {
            // As Mesos: an agent that cannot account for its containers does not start (it would orphan them).
            logger.error("Failed to recover containers", metadata: ["error": "\(error)"])
            throw error
        }

        var lost: [TaskCheckpoint] = []
        for task in unfinished {
            guard let containerID = task.containerID, recovered.contains(containerID) else {
                lost.append(task)
                continue
            }
            restore(task, containerID: containerID, usesImage: task.task.container?.imageReference != nil, from: checkpointed)
        }
        for (frameworkID, framework) in frameworks {
            for (executorID, executor) in framework.executors {
                watchRecovered(frameworkID, executorID, executor.containerID)
                // Health checks start again (with a fresh grace period) for tasks that were running.
                for (taskID, task) in executor.tasks where task.state == .taskRunning {
                    await startHealthChecks(frameworkID, executorID, taskID)
                }
            }
        }
        for task in lost {
            let message = task.containerID == nil
                ? "The agent restarted before the task's container was launched"
                : "The agent restarted and found no checkpoint of the task's container"
            await failUnrecoverable(task, message: message)
        }
    }

    /// Puts a checkpointed task and its executor back into the agent's records.
    private func restore(_ task: TaskCheckpoint, containerID: ContainerID, usesImage: Bool, from checkpointed: RecoveredCheckpoints) {
        let frameworkID = task.frameworkID
        if frameworks[frameworkID] == nil {
            let info = checkpointed.frameworks[frameworkID]
            frameworks[frameworkID] = AgentFrameworkRecord(info: info ?? FrameworkInfo(user: "", name: "", id: frameworkID))
        }
        var executor = frameworks[frameworkID]?.executors[task.executorID]
            ?? recoveredExecutor(task, containerID: containerID, info: checkpointed.executors[frameworkID]?[task.executorID])
        executor.tasks[task.task.taskID] = AgentTaskRecord(
            info: task.task, frameworkID: frameworkID, executorID: task.executorID, state: task.state)
        if case .running(var running) = executor.state, running.pid == nil {
            running.pid = task.pid
            executor.state = .running(running)
        }
        executor.usesImage = usesImage
        frameworks[frameworkID]?.executors[task.executorID] = executor
        logger.info(
            "Recovered task", metadata: ["framework_id": "\(frameworkID)", "task_id": "\(task.task.taskID)", "container_id": "\(containerID)"])
    }

    /// The executor record of a recovered task: the task's custom executor (from its checkpoint), or the built-in
    /// command executor the agent ran it under.
    private func recoveredExecutor(_ task: TaskCheckpoint, containerID: ContainerID, info: ExecutorInfo?) -> ExecutorRecord {
        let frameworkID = task.frameworkID
        let sandbox = (try? sandboxPath(frameworkID, task.executorID, containerID)) ?? configuration.workDir + "/slaves"  // IDs checked in recover()
        if task.task.executor != nil, let info {
            return ExecutorRecord(
                info: info, frameworkID: frameworkID, containerID: containerID, sandbox: sandbox, isCommandExecutor: false,
                state: .running(.init(pid: task.pid)))
        }
        var info = ExecutorInfo(
            type: .default, executorID: task.executorID, frameworkID: frameworkID, command: task.task.command, resources: [],
            name: "Command Executor (Task: \(task.task.taskID)) (Command: \(task.task.command?.value ?? ""))",
            source: task.task.taskID.value)
        info.container = task.task.container
        return ExecutorRecord(
            info: info, frameworkID: frameworkID, containerID: containerID, sandbox: sandbox, isCommandExecutor: true,
            state: .running(.init(pid: task.pid)))
    }

    /// Waits for a recovered container (running, or already finished while the agent was down) and reports its end.
    private func watchRecovered(_ frameworkID: FrameworkID, _ executorID: ExecutorID, _ containerID: ContainerID) {
        let containerizer = self.containerizer
        Task { [weak self] in
            let termination = (try? await containerizer.wait(containerID))
                ?? ContainerTermination(message: "The task's container was lost while the agent recovered")
            await self?.containerTerminated(frameworkID, executorID, containerID, termination, recovered: true)
        }
    }

    /// The reason and message of a recovered command task's terminal update. The state comes from the exit status the
    /// task's monitor kept (TASK_FINISHED, or TASK_FAILED with the code); the reason says why it failed, as Mesos' agent
    /// does for a command executor that ended: REASON_COMMAND_EXECUTOR_FAILED for a known failure,
    /// REASON_AGENT_RESTARTED when the restart lost the status. A limitation's reason is kept.
    static func recoveredOutcome(
        _ state: TaskState, _ reason: TaskStatus.Reason?, _ termination: ContainerTermination
    ) -> (TaskStatus.Reason?, String) {
        let message = termination.message + " (the agent recovered the task after a restart)"
        guard state == .taskFailed, reason == nil else { return (reason, message) }
        if termination.exitStatus == nil && termination.signal == nil { return (.reasonAgentRestarted, message) }
        return (.reasonCommandExecutorFailed, message)
    }

    /// A non-terminal task whose container cannot be found: TASK_FAILED (REASON_AGENT_RESTARTED).
    private func failUnrecoverable(_ task: TaskCheckpoint, message: String) async {
        let status = TaskStatus(
            taskID: task.task.taskID, state: .taskFailed, message: message, source: .sourceAgent,
            reason: .reasonAgentRestarted, agentID: agentID, executorID: task.executorID,
            timestamp: Date().timeIntervalSince1970, uuid: Base64Bytes(Self.newUUID()))
        var done = task
        done.state = .taskFailed
        checkpoints.submit(done, to: CheckpointStore.taskPath(task.frameworkID, task.task.taskID) + "/task.json")
        logger.warning("Could not recover a task", metadata: ["task_id": "\(task.task.taskID)", "reason": "\(message)"])
        await statusUpdates.update(status, frameworkID: task.frameworkID)
    }
}
