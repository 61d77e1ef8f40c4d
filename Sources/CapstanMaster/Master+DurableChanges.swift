import CapstanAPI
import CapstanCore
import Foundation
import Logging

/// The operator's changes that the registry keeps (weights, quota, maintenance) are durable before they answer: each
/// is checked, written, and only then applied in memory, one at a time, so a failed write leaves the master as it was
/// and two changes never interleave across the write's wait.
extension Master {
    /// Runs `change` once every change started before it has finished (the actor's other work goes on meanwhile).
    func oneChangeAtATime<T>(_ change: () async throws(CapstanError) -> T) async throws(CapstanError) -> T {
        if changeInProgress {
            await withCheckedContinuation { changeWaiters.append($0) }
        }
        changeInProgress = true
        defer {
            if changeWaiters.isEmpty { changeInProgress = false } else { changeWaiters.removeFirst().resume() }
        }
        return try await change()
    }

    /// Writes `operations` to the registry and waits until they are durable (at once without a registry).
    /// - Throws: `unavailable` naming `what` when the write failed; nothing of it was applied.
    func persist(_ operations: [RegistryOperation], what: String) async throws(CapstanError) {
        guard let registry else { return }
        do {
            try await registry.write(operations)
        } catch {
            let reason = (error as? CapstanError)?.message ?? "\(error)"
            throw CapstanError(
                .unavailable, "\(what) was not applied: the master could not write it to its \(configuration.registryKind) registry (\(reason)); retry",
                cause: error)
        }
    }

    /// The weights, quota and maintenance the registry held, restored at start (or when elected): the registry's
    /// weights win over `--weights` for the roles it names.
    static func restoreSettings(
        _ recovered: RegistryContents, allocator: inout DRFAllocator, maintenance: inout MaintenanceState, configuration: MasterConfiguration,
        logger: Logger
    ) {
        if !recovered.weights.isEmpty {
            let overridden = recovered.weights.keys.filter { configuration.roleWeights[$0] != nil && configuration.roleWeights[$0] != recovered.weights[$0] }
            if !overridden.isEmpty {
                logger.warning(
                    "The registry's weights (set by UPDATE_WEIGHTS) override --weights for some roles",
                    metadata: ["roles": "\(overridden.sorted())"])
            }
            allocator.updateWeights(recovered.weights)
        }
        for (role, quota) in recovered.quotas.sorted(by: { $0.key < $1.key }) {
            do {
                allocator.setQuota(role, guarantee: try Resources(mesos: quota.guarantee))
            } catch {
                logger.error("Ignoring an unreadable quota of the registry", metadata: ["role": "\(role)", "error": "\(error)"])
            }
        }
        do {
            maintenance = try recovered.maintenance.state(source: "the \(configuration.registryKind) registry")
        } catch {
            logger.error("Ignoring the registry's maintenance schedule", metadata: ["error": "\(error.message)"])
        }
        guard !recovered.weights.isEmpty || !recovered.quotas.isEmpty || !recovered.maintenance.machines.isEmpty else { return }
        logger.info(
            "Recovered the operator's settings from the registry",
            metadata: [
                "weights": "\(recovered.weights.count)", "quotas": "\(recovered.quotas.count)",
                "scheduled_machines": "\(maintenance.scheduledMachines.count)", "down_machines": "\(maintenance.downMachines.count)",
            ])
    }
}
