import NIOPosix

/// The one place blocking work runs (file-system calls, fsync, flock): NIO's bounded thread pool, never the
/// cooperative pool, whose few threads (two on a two-core machine) must stay free for the actors.
public enum Blocking {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }
}
