import CapstanAPI
import CapstanCore
import CapstanHTTP
import Logging

extension Master {
    /// Logs, once per framework, that the allocator withholds agents from it and why (a framework without
    /// GPU_RESOURCES never sees the agents with GPUs). Called at each allocation cycle; cheap when nothing is withheld.
    func logWithheldAgents() {
        guard allocator.hasGPUAgents else { return }
        for frameworkID in frameworks.keys where !withholdingLogged.contains(frameworkID) {
            guard let withheld = allocator.withholding(from: frameworkID) else { continue }
            withholdingLogged.insert(frameworkID)
            logger.info(
                "Agents withheld from a framework",
                metadata: [
                    "framework_id": "\(frameworkID)", "name": "\(frameworks[frameworkID]?.info.name ?? "")",
                    "agent_ids": "\(withheld.agentIDs.map(\.value).joined(separator: ","))", "reason": "\(withheld.reason)",
                ])
        }
    }

    /// `capstan_withheld_agents` of a framework in `/state` and `/frameworks`: agent IDs as strings and the reason;
    /// nil when nothing is withheld.
    func legacyWithheldAgents(_ frameworkID: FrameworkID) -> LegacyJSON? {
        guard let withheld = allocator.withholding(from: frameworkID) else { return nil }
        return .object([
            "agent_ids": .array(withheld.agentIDs.map { .string($0.value) }), "reason": .string(withheld.reason),
        ])
    }
}
