import Logging
import CapstanAPI
import CapstanCore
import Foundation

extension Agent {
    /// What the agent tells the master when it (re-)registers: its identity, resources and everything it runs.
    func registrationMessage() -> RegisterAgentMessage {
        let tasks = liveTasks.map { $0.wire(agentID: agentID) }
        let executors = frameworks.values.flatMap { $0.executors.values.filter { !$0.isCommandExecutor }.map(\.info) }
        return RegisterAgentMessage(
            agentID: agentID, agentInfo: agentInfo, endpoint: endpoint.description,
            frameworks: frameworks.values.map(\.info), tasks: tasks, executors: executors,
            version: VersionText.mesosAPIVersion)
    }

    /// The master accepted the registration.
    func registered(_ reply: AgentRegisteredMessage) async {
        if agentID != reply.agentID {
            agentID = reply.agentID
            do {
                try checkpoints.write(AgentCheckpoint(agentID: reply.agentID), to: "agent.json")
            } catch {
                logger.error("Failed to checkpoint the agent ID", metadata: ["error": "\(error)"])
            }
        }
        let changedMaster = masterID != reply.masterID
        masterID = reply.masterID
        if changedMaster {
            logger.info("Registered with master", metadata: ["agent_id": "\(reply.agentID)", "master_id": "\(reply.masterID)"])
        }
        await statusUpdates.setConnected(true)
    }

    /// Lost the master: updates wait until the agent is registered again.
    func disconnected() async {
        await statusUpdates.setConnected(false)
    }

    var heartbeatMessage: AgentHeartbeatMessage? {
        agentID.map { AgentHeartbeatMessage(agentID: $0, masterID: masterID) }
    }

    /// Recovers from checkpoints at start-up: the agent ID, unacknowledged updates, and tasks that were running.
    /// The plain-process launcher cannot re-attach to processes of a previous agent run, so their process groups are
    /// killed and the tasks reported TASK_FAILED (REASON_AGENT_RESTARTED); the reliability work replaces this with
    /// real re-attachment through capstan-init.
    public func recover() async {
        if let checkpoint = try? checkpoints.read(AgentCheckpoint.self, from: "agent.json") {
            agentID = checkpoint.agentID
            logger.info("Recovered agent ID from checkpoint", metadata: ["agent_id": "\(checkpoint.agentID)"])
        }
        var streams: [(FrameworkID, TaskID, UpdateStreamCheckpoint)] = []
        var orphans: [(FrameworkID, TaskCheckpoint)] = []
        for frameworkDir in checkpoints.list("frameworks") {
            let frameworkID = FrameworkID(frameworkDir)
            for taskDir in checkpoints.list("frameworks/\(frameworkDir)/tasks") {
                let base = "frameworks/\(frameworkDir)/tasks/\(taskDir)"
                if let stream = try? checkpoints.read(UpdateStreamCheckpoint.self, from: base + "/updates.json") {
                    streams.append((frameworkID, TaskID(taskDir), stream))
                }
                if let task = try? checkpoints.read(TaskCheckpoint.self, from: base + "/task.json"), !task.state.isTerminal {
                    orphans.append((frameworkID, task))
                }
            }
        }
        await statusUpdates.recover(streams)
        for (frameworkID, task) in orphans {
            if let pid = task.pid, pid > 1 { kill(-pid, SIGKILL) }
            let status = TaskStatus(
                taskID: task.task.taskID, state: .taskFailed,
                message: "The agent restarted and could not recover the task's process", source: .sourceAgent,
                reason: .reasonAgentRestarted, agentID: agentID, executorID: task.executorID,
                timestamp: Date().timeIntervalSince1970, uuid: Base64Bytes(Self.newUUID()))
            var done = task
            done.state = .taskFailed
            try? checkpoints.write(done, to: CheckpointStore.taskPath(frameworkID, task.task.taskID) + "/task.json")
            await statusUpdates.update(status, frameworkID: frameworkID)
        }
    }
}

/// Version strings the agent reports.
enum VersionText {
    static let mesosAPIVersion = "1.0.0"
}
