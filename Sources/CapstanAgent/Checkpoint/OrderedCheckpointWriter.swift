import CapstanLinux
import Foundation
import Synchronization

/// Writes (and removes) checkpoints off the cooperative pool — the write, its fsyncs and the rename run on the
/// bounded blocking pool — while keeping an actor's order: each call carries a version taken on the actor when the
/// snapshot was made, and a snapshot older than one already on disk is dropped. So the file always ends as the
/// actor's latest state, whichever blocking thread finishes first, and a removal is never undone by a late write.
final class OrderedCheckpointWriter: Sendable {
    let store: CheckpointStore
    /// The newest version written per relative path. Held across the write: writes of one writer are serial.
    private let written = Mutex<[String: UInt64]>([:])
    /// Directories whose checkpoints were dropped, with the version of the drop: older writes under them are stale.
    /// A lock of its own, so retiring never waits for a write in progress.
    private let retired = Mutex<[String: UInt64]>([:])

    init(store: CheckpointStore) {
        self.store = store
    }

    /// Writes `value` to `relativePath` unless a newer version is already there.
    func write<T: Encodable & Sendable>(_ value: T, to relativePath: String, version: UInt64) async throws {
        try await Blocking.run { [self] in
            try self.written.withLock { written in
                guard version > written[relativePath, default: 0], !self.isRetired(relativePath, before: version) else { return }
                try self.store.write(value, to: relativePath)
                written[relativePath] = version
            }
        }
    }

    /// Marks every checkpoint under `directory` as dropped at `version` (the caller removes the directory itself):
    /// a write taken before that, still on its way, does not bring them back.
    func retire(_ directory: String, version: UInt64) {
        retired.withLock { $0[directory + "/"] = version }
    }

    private func isRetired(_ relativePath: String, before version: UInt64) -> Bool {
        retired.withLock { retired in retired.contains { relativePath.hasPrefix($0.key) && version < $0.value } }
    }

    /// Removes `relativePath` unless a newer version was written after this removal was asked for.
    func remove(_ relativePath: String, version: UInt64) async {
        _ = try? await Blocking.run { [self] in
            self.written.withLock { written in
                guard version > written[relativePath, default: 0] else { return }
                self.store.remove(relativePath)
                written[relativePath] = version
            }
        }
    }
}
