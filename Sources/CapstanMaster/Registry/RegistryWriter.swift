import CapstanCore
import Logging

/// Carries the master's registry changes to its store in the order the master made them, off the master's actor:
/// the actor never waits on disk. A change is either submitted (the master goes on at once; a write that fails is
/// logged with what it was, and the next ones still run) or written (the caller waits until it is durable, or learns
/// that it failed, and only then changes its memory: the operator's weights, quota and maintenance).
final class RegistryWriter: Sendable {
    private struct Batch: Sendable {
        var operations: [RegistryOperation]
        /// Told the outcome when the caller waits for it.
        var done: CheckedContinuation<Void, any Error>?
    }

    private let continuation: AsyncStream<Batch>.Continuation
    private let worker: Task<Void, Never>

    init(registry: any MasterRegistry, logger: Logger) {
        let (stream, continuation) = AsyncStream.makeStream(of: Batch.self, bufferingPolicy: .unbounded)
        self.continuation = continuation
        worker = Task {
            for await batch in stream {
                do {
                    try await registry.apply(batch.operations)
                    batch.done?.resume()
                } catch {
                    logger.error("Registry write failed", metadata: ["operations": "\(batch.operations)", "error": "\(error)"])
                    batch.done?.resume(throwing: error)
                }
            }
        }
    }

    /// Queues `operations` (applied together, after everything queued before).
    func submit(_ operations: RegistryOperation...) {
        guard !operations.isEmpty else { return }
        continuation.yield(Batch(operations: operations))
    }

    /// Applies `operations` together, after everything queued before, and returns once they are durable.
    /// - Throws: the store's error when the write failed (nothing of it was applied), or `unavailable` when the writer
    ///   was finished.
    func write(_ operations: [RegistryOperation]) async throws {
        guard !operations.isEmpty else { return }
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            if case .terminated = continuation.yield(Batch(operations: operations, done: done)) {
                done.resume(throwing: CapstanError(.unavailable, "The master's registry is closed (the master is shutting down); nothing was written"))
            }
        }
    }

    /// Waits until everything queued so far is written (shutdown, tests).
    func finish() async {
        continuation.finish()
        await worker.value
    }
}
