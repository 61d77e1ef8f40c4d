import NIOPosix

/// The one place blocking work runs (file-system calls, fsync, flock): NIO's bounded thread pool, never the
/// cooperative pool, whose few threads (two on a two-core machine) must stay free for the actors.
public enum Blocking {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive {
            insideRun.currentValue = mark
            defer { insideRun.currentValue = nil }
            return try body()
        }
    }

    /// Whether the calling thread is running the body of a ``run(_:)``: for assertions and tests that check a
    /// blocking call left the cooperative pool.
    public static var isOnPool: Bool { insideRun.currentValue != nil }

    private final class Mark: Sendable {}
    private static let mark = Mark()
    private static let insideRun = ThreadSpecificVariable<Mark>()
}
