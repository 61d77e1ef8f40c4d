import AsyncHTTPClient
public import CapstanCore
import NIOCore
import NIOHTTP1

/// Finds the leading master among several (`--master h1:p1,h2:p2,…`) as Mesos clients do: `GET /redirect` on any
/// master answers `307` with `Location: //LEADER`, the leader naming itself. The answer is kept for a second, so a
/// caller that asks on every message costs at most one probe a second; a master that is down or has no leader yet
/// (503) is skipped. When none answers, the first address is returned (the caller's request then fails and retries).
public actor LeaderFinder {
    public let masters: [HostPort]
    let secure: Bool
    let client: HTTPClient
    var known: (leader: HostPort, at: ContinuousClock.Instant)?

    /// `masters` in the order to try them; `tls`: the cluster speaks HTTPS.
    public init(masters: [HostPort], tls: ClientTLS? = nil) throws(CapstanError) {
        precondition(!masters.isEmpty, "LeaderFinder needs at least one master")
        self.masters = masters
        secure = tls != nil
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        if let tls { configuration.tlsConfiguration = try tls.configuration() }
        // One per process, like the shared client: it lives as long as the agent.
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// The leader, probing again when the last answer is older than a second.
    public func leader() async -> HostPort {
        if let known, ContinuousClock.now - known.at < .seconds(1) { return known.leader }
        let found = await probe() ?? masters[0]
        known = (found, .now)
        return found
    }

    private func probe() async -> HostPort? {
        for master in masters {
            let url = (secure ? "https://" : "http://") + master.description + "/redirect"
            guard let response = try? await client.execute(HTTPClientRequest(url: url), timeout: .seconds(2)) else { continue }
            _ = try? await response.body.collect(upTo: 1 << 16)
            guard response.status.code == 307, let location = response.headers.first(name: "Location"), location.hasPrefix("//") else {
                continue
            }
            let authority = location.dropFirst(2).prefix { $0 != "/" }
            if let leader = try? HostPort.parse(String(authority)) { return leader }
        }
        return nil
    }
}
