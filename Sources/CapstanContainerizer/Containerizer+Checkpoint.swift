public import CapstanCore
import CapstanLinux
import Foundation
import Glibc
import Logging

/// What ``Containerizer/recover(knownContainers:)`` found.
public struct ContainerRecovery: Sendable, Hashable {
    /// Checkpointed containers the caller knows: running again, or already finished (their termination, read
    /// from the launcher's records where it kept one, answers ``Containerizer/wait(_:)``).
    public var recovered: [ContainerID]
    /// Containers the caller does not know (checkpointed, or left behind by a launch that never got that far);
    /// they have been destroyed and cleaned up.
    public var orphans: [ContainerID]

    /// Creates a recovery result.
    public init(recovered: [ContainerID], orphans: [ContainerID]) {
        self.recovered = recovered
        self.orphans = orphans
    }
}

extension Containerizer {
    /// Recovers from the containerizer's own checkpoints (see `checkpointDirectory` in ``init(launcher:isolators:logger:clock:finishedHistory:checkpointDirectory:)``)
    /// after an agent restart; call once, before any ``launch(_:)``.
    ///
    /// Every checkpointed container goes through ``recover(_:)``. Those not in `known` are orphans: destroyed at
    /// once. Containers whose launcher state outlived a launch that never reached its checkpoint are cleaned up too.
    /// - Throws: a ``CapstanError`` naming the launcher or the isolator that failed to recover, or a checkpoint that
    ///   does not decode.
    public func recover(knownContainers known: Set<ContainerID>) async throws -> ContainerRecovery {
        let states = try readCheckpoints()
        try await recover(states)
        var recovered: [ContainerID] = []
        var orphans: [ContainerID] = []
        for state in states {
            let id = state.containerID
            if known.contains(id) {
                recovered.append(id)
                continue
            }
            orphans.append(id)
            logger(for: id).warning("Destroying an orphaned container: the agent has no task for it")
            _ = await destroy(id, gracePeriod: .zero)
            forgetFinished(id)
        }
        var leftovers: [ContainerID] = []
        for launcher in launchers { leftovers += await launcher.removeLeftovers(keeping: Set(states.map(\.containerID))) }
        for id in leftovers {
            orphans.append(id)
            logger(for: id).warning("Removed what a launch left behind before its checkpoint")
            await cleanupContainer(id)
        }
        return ContainerRecovery(recovered: recovered.sorted(), orphans: orphans.sorted())
    }

    /// `<checkpointDirectory>/<id>.json`.
    private func checkpointPath(_ id: ContainerID) -> String? {
        checkpointDirectory.map { "\($0)/\(id).json" }
    }

    /// Records a launched container for ``recover(knownContainers:)`` with ``AtomicFile`` (temporary file, fsync,
    /// rename, directory fsync): a power cut leaves the old checkpoint or the new one, never an empty or torn file
    /// that would stop the agent at its next start. The file system calls run on the bounded blocking pool, not on
    /// the cooperative one.
    func writeCheckpoint(_ config: ContainerConfig, _ process: LaunchedProcess) async throws {
        guard let path = checkpointPath(config.containerID), let directory = checkpointDirectory else { return }
        let state = ContainerRecoveryState(
            containerID: config.containerID, pid: process.pid, config: config, startTicks: process.startTicks)
        let data: Data
        do { data = try JSONEncoder().encode(state) } catch {
            throw CapstanError(.internal, "Failed to launch: the container checkpoint cannot be encoded: \(error)")
        }
        try await Blocking.run {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw CapstanError(.internal, "Failed to launch: cannot create the container checkpoint directory '\(directory)': \(error)")
            }
            try AtomicFile.write(data, to: path, mode: 0o600)  // its errors name the file and the call
        }
    }

    /// Forgets a container's checkpoint (idempotent).
    func removeCheckpoint(_ id: ContainerID) {
        guard let path = checkpointPath(id) else { return }
        unlink(path)
    }

    /// Every checkpoint. One that is there but does not decode (torn, truncated, corrupted) is an error naming its
    /// path: dropped, its container would run on with nobody to watch, limit or destroy it.
    private func readCheckpoints() throws(CapstanError) -> [ContainerRecoveryState] {
        guard let directory = checkpointDirectory,
            let names = try? FileManager.default.contentsOfDirectory(atPath: directory)
        else { return [] }
        var states: [ContainerRecoveryState] = []
        for name in names.sorted() where name.hasSuffix(".json") {
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else { continue }  // removed meanwhile
            do {
                states.append(try JSONDecoder().decode(ContainerRecoveryState.self, from: data))
            } catch {
                throw CapstanError(
                    .failedPrecondition,
                    "Container checkpoint \(path) is \(data.isEmpty ? "empty" : "not a whole checkpoint (\(data.count) bytes; torn or corrupted)"); move it aside (its container is then destroyed as an orphan) or restore it, and start again",
                    cause: error)
            }
        }
        return states
    }
}
