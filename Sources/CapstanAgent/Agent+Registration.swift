import Logging
import CapstanAPI
import CapstanContainerizer
import CapstanCore
import Foundation

extension Agent {
    /// What the agent tells the master when it (re-)registers: its identity, resources and everything it runs.
    func registrationMessage() async -> RegisterAgentMessage {
        if let cni = networkIsolator { networkNames = await cni.networks().names }
        let tasks = liveTasks.map { $0.wire(agentID: agentID) }
        let executors = frameworks.values.flatMap { $0.executors.values.filter { !$0.isCommandExecutor }.map(\.info) }
        return RegisterAgentMessage(
            agentID: agentID, agentInfo: agentInfo, endpoint: endpoint.description,
            frameworks: frameworks.values.map(\.info), tasks: tasks, executors: executors,
            version: VersionText.mesosAPIVersion)
    }

    /// Whether the networks in the configuration directories differ from those the last registration advertised.
    func advertisedNetworksChanged() async -> Bool {
        guard let cni = networkIsolator else { return false }
        return await cni.networks().names != networkNames
    }

    /// The master accepted the registration.
    func registered(_ reply: AgentRegisteredMessage) async {
        if agentID != reply.agentID {
            agentID = reply.agentID
            do {
                try await checkpoints.write(AgentCheckpoint(agentID: reply.agentID), to: "agent.json", version: checkpoints.nextVersion())
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
}

/// Version strings the agent reports.
enum VersionText {
    static let mesosAPIVersion = "1.0.0"
}
