import CapstanTestSupport
import Foundation

/// `git daemon` serving a fixture's directory over git:// on 127.0.0.1, stopped by PID.
enum GitDaemonServer {
    /// Calls `body` with the git:// URL of the fixture's origin repository. `ports` picks the ports to try (free ones).
    static func with<T>(_ fixture: GitFixture, ports: () -> Int = FreePort.next, _ body: (String) async throws -> T) async throws -> T {
        // git-daemon itself, not the `git` wrapper (which waits on it and outlives a SIGTERM).
        let daemon = try Prerequisites.path(of: "git-daemon", alsoIn: GitTestSupport.gitCore)
        let base = fixture.directory.path
        // git daemon takes `--port=0` for its default port 9418 and cannot report one the kernel picks: it gets a
        // picked port, and another one when that collided with another process's.
        let (server, port) = try await PickedPort.retrying(ports: ports) { port -> (ServerProcess, Int)? in
            let server = try ServerProcess(
                [daemon, "--export-all", "--reuseaddr", "--informative-errors", "--base-path=\(base)",
                 "--listen=127.0.0.1", "--port=\(port)", base],
                logPath: base + "/git-daemon.log")
            return await server.listens(on: port) ? (server, port) : nil
        }
        defer { server.stop() }
        return try await body("git://127.0.0.1:\(port)/origin")
    }
}
