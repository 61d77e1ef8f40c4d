import Logging

/// Carries the master's registry changes to its store in the order the master made them, off the master's actor:
/// the actor never waits on disk. A write that fails is logged with what it was; the next ones still run.
final class RegistryWriter: Sendable {
    private let continuation: AsyncStream<[RegistryOperation]>.Continuation
    private let worker: Task<Void, Never>

    init(registry: any MasterRegistry, logger: Logger) {
        let (stream, continuation) = AsyncStream.makeStream(of: [RegistryOperation].self, bufferingPolicy: .unbounded)
        self.continuation = continuation
        worker = Task {
            for await operations in stream {
                do {
                    try await registry.apply(operations)
                } catch {
                    logger.error("Registry write failed", metadata: ["operations": "\(operations)", "error": "\(error)"])
                }
            }
        }
    }

    /// Queues `operations` (applied together, after everything queued before).
    func submit(_ operations: RegistryOperation...) {
        guard !operations.isEmpty else { return }
        continuation.yield(operations)
    }

    /// Waits until everything queued so far is written (shutdown, tests).
    func finish() async {
        continuation.finish()
        await worker.value
    }
}
