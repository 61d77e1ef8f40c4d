import AsyncHTTPClient
public import CapstanCore
import Foundation
import NIOCore
import NIOHTTP1

/// Finds the leading master for a ``MasterAddress``, as Mesos clients follow the leader:
///
/// - one master: that master, never probed;
/// - several masters: `GET /redirect` on each in turn answers `307` with `Location: //LEADER`, the leader naming
///   itself; a master that is down or knows no leader (503) is skipped;
/// - `etcd://…/PREFIX`: the `HOST:PORT` the elected master keeps in etcd at `PREFIX/leader`.
///
/// An answer is kept for a second (``forget()`` drops it at once), so a caller that asks before every message costs
/// at most one probe a second.
public actor LeaderFinder {
    public let address: MasterAddress
    let secure: Bool
    let client: HTTPClient
    let etcd: EtcdClient?
    var known: (leader: HostPort, at: ContinuousClock.Instant)?

    /// `tls`: the masters speak HTTPS (etcd's JSON gateway is always plain HTTP on loopback or a private network).
    public init(_ address: MasterAddress, tls: ClientTLS? = nil) throws(CapstanError) {
        self.address = address
        secure = tls != nil
        client = try RedirectFreeClients.client(for: tls)
        if case .etcd(let endpoints, _) = address {
            etcd = try EtcdClient(endpoints: endpoints.map(\.url), timeout: .seconds(2))
        } else {
            etcd = nil
        }
    }

    /// Several masters in the order to try them.
    public init(masters: [HostPort], tls: ClientTLS? = nil) throws(CapstanError) {
        precondition(!masters.isEmpty, "LeaderFinder needs at least one master")
        try self.init(.masters(masters), tls: tls)
    }

    /// The leader, asking again when the last answer is older than a second.
    ///
    /// - Throws: ``CapstanError`` `.unavailable` naming what was asked when no leader is known (no master answered,
    ///   or etcd holds no leader key).
    public func leader() async throws(CapstanError) -> HostPort {
        if let single = address.single { return single }
        if let known, ContinuousClock.now - known.at < .seconds(1) { return known.leader }
        let found = try await find()
        known = (found, .now)
        return found
    }

    /// Drops the remembered leader: the next ``leader()`` asks again (after a call to it failed).
    public func forget() { known = nil }

    private func find() async throws(CapstanError) -> HostPort {
        switch address {
        case .masters(let masters):
            if let leader = await redirect(masters) { return leader }
            throw CapstanError(
                .unavailable,
                "no leading master found: none of \(masters.map(\.description).joined(separator: ", ")) answered /redirect with a leader")
        case .etcd(_, let prefix):
            let key = prefix + "/leader"
            let entries: [EtcdKeyValue]
            do {
                entries = try await etcd!.range(key)
            } catch {
                throw CapstanError(.unavailable, "cannot read the leading master from \(address): \((error as? CapstanError)?.message ?? "\(error)")")
            }
            guard let entry = entries.first else {
                throw CapstanError(.unavailable, "no master leads: etcd holds no \(key) (is a `capstan master --etcd … --etcd-prefix \(prefix)` running?)")
            }
            let text = String(decoding: entry.value, as: UTF8.self)
            do { return try HostPort.parse(text) } catch {
                throw CapstanError(.failedPrecondition, "etcd's \(key) holds '\(text)', not a master's HOST:PORT")
            }
        }
    }

    private func redirect(_ masters: [HostPort]) async -> HostPort? {
        for master in masters {
            let url = master.url(tls: secure) + "/redirect"
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
