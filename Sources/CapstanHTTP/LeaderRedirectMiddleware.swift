import CapstanCore
import HTTPTypes
import Hummingbird

/// Who leads the masters. A single master always leads; the HA work backs this with etcd leader election.
public protocol Leadership: Sendable {
    /// The current state, read on every API request.
    func current() async -> LeadershipState
}

/// Whether this master leads, and where the leader is when it does not.
public enum LeadershipState: Sendable, Equatable {
    case leading
    case following(leader: HostPort)
    case electing
}

/// A lone master: always the leader.
public struct StandaloneLeadership: Leadership {
    public init() {}
    public func current() async -> LeadershipState { .leading }
}

/// Answers API requests on a master that does not lead as Mesos does: `307 Temporary Redirect` with the leader's
/// address in `Location` (scheme-relative, `//HOST:PORT/path`), or `503` while no leader is elected. Health,
/// version and metrics stay local so probes and scrapers see each master.
public struct LeaderRedirectMiddleware<Context: RequestContext>: RouterMiddleware {
    let leadership: any Leadership
    /// Path prefixes that only the leader serves.
    let leaderOnlyPrefixes: [String]

    public init(leadership: any Leadership, leaderOnlyPrefixes: [String] = [
        "/api/v1", "/state", "/master/state", "/redirect", "/master/api/v1", "/master/redirect", "/quota", "/master/quota",
        "/weights", "/master/weights", "/master/internal", "/slaves", "/master/slaves", "/frameworks", "/master/frameworks",
        "/tasks", "/master/tasks", "/state-summary", "/master/state-summary",
    ]) {
        self.leadership = leadership
        self.leaderOnlyPrefixes = leaderOnlyPrefixes
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard leaderOnlyPrefixes.contains(where: { path.hasPrefix($0) }) else { return try await next(request, context) }
        switch await leadership.current() {
        case .leading:
            return try await next(request, context)
        case .following(let leader):
            // `/redirect` names the leader itself, as Mesos' does; other paths keep their path and query.
            let isRedirect = path == "/redirect" || path == "/master/redirect"
            var target = isRedirect ? "//\(leader)" : "//\(leader)\(path)"
            if !isRedirect, let query = request.uri.query, !query.isEmpty { target += "?" + query }
            return Response(status: .temporaryRedirect, headers: [.location: target])
        case .electing:
            throw APIError(.serviceUnavailable, "No leader elected")
        }
    }
}
