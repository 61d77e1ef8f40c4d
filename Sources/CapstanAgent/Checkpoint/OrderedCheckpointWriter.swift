import CapstanLinux
import Foundation
import Logging
import Synchronization

/// The one writer of an agent's checkpoints (`meta/`), shared by the agent and its status update manager. Writes and
/// removals — the file, its fsyncs, the rename — run on the bounded blocking pool, never on an actor, while keeping
/// the actors' order: each carries a version taken when its snapshot was made (``nextVersion()``, called on the actor
/// before it suspends), and a snapshot older than one already on disk is dropped. So a file always ends as the
/// latest state, whichever blocking thread finishes first; a removal is never undone by a late write; and a dropped
/// directory (``removeDirectory(_:)``) stays dropped for every write taken before it.
///
/// An actor that must not wait hands a write over with ``submit(_:to:)``; ``flush()`` waits for everything handed
/// over before it (the status update manager flushes before it sends an update, so a task's checkpoint is on disk
/// before the framework hears of its new state; a launch flushes before its container starts).
public final class OrderedCheckpointWriter: Sendable {
    public let store: CheckpointStore
    private let logger: Logger
    private let versions = Atomic<UInt64>(0)
    /// The newest version written per relative path. Held across the write: writes of one writer are serial.
    private let written = Mutex<[String: UInt64]>([:])
    /// Directories whose checkpoints were dropped, with the version of the drop: older writes under them are stale.
    /// A lock of its own, so retiring never waits for a write in progress.
    private let retired = Mutex<[String: UInt64]>([:])
    /// Writes handed over with `submit` and not finished yet, by version.
    private let inFlight = Mutex<[UInt64: Task<Void, Never>]>([:])

    public init(store: CheckpointStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// The version of a snapshot taken now. Take it on the actor that made the snapshot, before that actor suspends.
    public func nextVersion() -> UInt64 {
        versions.add(1, ordering: .relaxed).newValue
    }

    /// Writes `value` to `relativePath` unless a newer version is already there, and returns once it is on disk.
    public func write<T: Encodable & Sendable>(_ value: T, to relativePath: String, version: UInt64) async throws {
        try await Blocking.run { [self] in
            try self.written.withLock { written in
                guard version > written[relativePath, default: 0], !self.isRetired(relativePath, before: version) else { return }
                try self.store.write(value, to: relativePath)
                written[relativePath] = version
            }
        }
    }

    /// Removes `relativePath` unless a newer version was written after this removal was asked for.
    public func remove(_ relativePath: String, version: UInt64) async {
        _ = try? await Blocking.run { [self] in
            self.written.withLock { written in
                guard version > written[relativePath, default: 0] else { return }
                self.store.remove(relativePath)
                written[relativePath] = version
            }
        }
    }

    /// Marks every checkpoint under `directory` as dropped at `version` (the caller removes the directory itself):
    /// a write taken before that, still on its way, does not bring them back.
    public func retire(_ directory: String, version: UInt64) {
        retired.withLock { $0[directory + "/"] = version }
    }

    private func isRetired(_ relativePath: String, before version: UInt64) -> Bool {
        retired.withLock { retired in retired.contains { relativePath.hasPrefix($0.key) && version < $0.value } }
    }

    // MARK: Handed over

    /// Hands a snapshot taken now over to the blocking pool and returns at once; ``flush()`` waits for it. A failed
    /// write is logged, naming the file: the caller's state is unchanged, and its next snapshot of the file tries again.
    public func submit<T: Encodable & Sendable>(_ value: T, to relativePath: String) {
        let version = nextVersion()
        track(version) { writer in
            do {
                try await writer.write(value, to: relativePath, version: version)
            } catch {
                writer.logger.error("Failed to write a checkpoint", metadata: ["checkpoint": "\(relativePath)", "error": "\(error)"])
            }
        }
    }

    /// Hands the removal of a checkpoint file over, as ``submit(_:to:)`` does a write.
    public func submitRemoval(_ relativePath: String) {
        let version = nextVersion()
        track(version) { writer in await writer.remove(relativePath, version: version) }
    }

    /// Drops a checkpoint directory (a framework's): retired now, so no write taken before this lands under it, and
    /// removed on the blocking pool.
    public func removeDirectory(_ relativePath: String) {
        let version = nextVersion()
        retire(relativePath, version: version)
        track(version) { writer in await writer.remove(relativePath, version: version) }
    }

    /// Returns once every write and removal handed over before this call is done.
    public func flush() async {
        let pending = inFlight.withLock { Array($0.values) }
        for task in pending { await task.value }
    }

    private func track(_ version: UInt64, _ body: @escaping @Sendable (OrderedCheckpointWriter) async -> Void) {
        inFlight.withLock { inFlight in
            // Registered under the lock the task takes to unregister itself, so it is never unregistered first.
            inFlight[version] = Task { [self] in
                await body(self)
                _ = self.inFlight.withLock { $0.removeValue(forKey: version) }
            }
        }
    }
}
