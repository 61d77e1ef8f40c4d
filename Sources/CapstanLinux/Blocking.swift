import NIOCore
import NIOPosix

/// The one place blocking work runs (file-system calls, fsync, flock): NIO's bounded thread pool, never the
/// cooperative pool, whose few threads (two on a two-core machine) must stay free for the actors.
///
/// Work handed over is always done, even when the caller's task is cancelled meanwhile: a checkpoint write that was
/// asked for must land (an agent stopped right after registering must still keep its ID), so cancellation never skips
/// a body that has not started yet, as NIO's async `runIfActive` would.
public enum Blocking {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(eventLoop: MultiThreadedEventLoopGroup.singleton.any()) {
            insideRun.currentValue = mark
            defer { insideRun.currentValue = nil }
            return try body()
        }.get()
    }

    /// Whether the calling thread is running the body of a ``run(_:)``: for assertions and tests that check a
    /// blocking call left the cooperative pool.
    public static var isOnPool: Bool { insideRun.currentValue != nil }

    private final class Mark: Sendable {}
    private static let mark = Mark()
    private static let insideRun = ThreadSpecificVariable<Mark>()
}
