public import CapstanAPIClient
public import CapstanCore
public import CapstanHTTP
import Foundation
public import Logging

/// Leader election among masters on etcd: a lease of `ttl` seconds and a create-if-absent transaction on
/// `<prefix>/leader`, whose value is the leader's `HOST:PORT`. Followers poll the key and report where the leader is.
/// The leader renews its lease every third of the TTL; once it cannot (etcd unreachable until the lease would have
/// ended, etcd saying the lease is gone, or a registry write refused by the fence) it is deposed at once:
/// ``current()`` stops answering `.leading` and `onLost` runs (`capstan master` exits, as a Mesos master aborts, so
/// that its supervisor restarts it as a follower).
public actor EtcdLeadership: ElectedLeadership {
    enum Phase: Equatable {
        case electing
        case following(HostPort)
        /// Elected; recovering the registry before it serves.
        case won
        case leading
        case deposed
    }

    public let client: EtcdClient
    public let prefix: String
    public let ttl: Int
    let logger: Logger
    let onLost: @Sendable (String) -> Void
    var phase = Phase.electing
    var lease: Int64 = 0
    /// When the lease may have ended, by this master's clock (measured from before the renewal was sent).
    var leaseDeadline = ContinuousClock.now
    var keepAlive: Task<Void, Never>?
    /// This master's term, once elected.
    public private(set) var fence: EtcdFence?

    public init(client: EtcdClient, prefix: String = "/capstan", ttl: Int = 5, logger: Logger, onLost: @escaping @Sendable (String) -> Void = { _ in }) {
        self.client = client
        self.prefix = prefix
        self.ttl = max(ttl, 1)
        self.logger = logger
        self.onLost = onLost
    }

    public var leaderKey: String { prefix + "/leader" }
    var pollInterval: Duration { min(.milliseconds(500), .milliseconds(ttl * 250)) }

    public func current() -> LeadershipState {
        switch phase {
        case .leading:
            if ContinuousClock.now >= leaseDeadline {
                lose("its etcd lease may have expired (no renewal within \(ttl)s)")
                return .electing
            }
            return .leading
        case .following(let leader): return .following(leader: leader)
        case .electing, .won, .deposed: return .electing
        }
    }

    public func campaign(advertising address: HostPort) async throws -> any MasterRegistry {
        let value = Data(address.description.utf8)
        while true {
            try Task.checkCancellation()
            do {
                if let holder = try await client.range(leaderKey).first {
                    follow(holder, me: address)
                } else {
                    let sent = ContinuousClock.now
                    let lease = try await client.grantLease(ttl: ttl)
                    let result = try await client.txn(
                        compare: [.createRevision(key: leaderKey, equals: 0)],
                        success: [.put(key: leaderKey, value: value, lease: lease)], failure: [.range(key: leaderKey)])
                    if result.succeeded {
                        return won(lease: lease, revision: result.revision, sent: sent)
                    }
                    try? await client.revoke(lease: lease)
                    if let holder = result.ranges.first?.first { follow(holder, me: address) }
                }
            } catch let error as CapstanError {
                if phase != .electing { logger.warning("Cannot reach etcd; no leader known", metadata: ["error": "\(error)"]) }
                phase = .electing
            }
            try await Task.sleep(for: pollInterval)
        }
    }

    public func serve() {
        if phase == .won { phase = .leading }
    }

    public func resign() async {
        guard phase == .won || phase == .leading else { return }
        phase = .deposed
        keepAlive?.cancel()
        try? await client.revoke(lease: lease)
        logger.info("Resigned the leadership", metadata: ["fence": "\(fence?.description ?? "-")"])
    }

    /// Follows the master named by the leader key, unless it names this master's own address: a previous run of
    /// this master whose lease has not ended yet. Redirecting to itself would loop, so it answers 503 until then.
    private func follow(_ holder: EtcdKeyValue, me: HostPort) {
        let text = String(decoding: holder.value, as: UTF8.self)
        guard let leader = try? HostPort.parse(text) else {
            logger.warning("The leader key holds no HOST:PORT", metadata: ["key": "\(leaderKey)", "value": "\(text)"])
            phase = .electing
            return
        }
        guard leader != me else {
            if phase != .electing { logger.info("The leader key still names this master's previous run; waiting for its lease to end") }
            phase = .electing
            return
        }
        if phase != .following(leader) { logger.info("Following the leader", metadata: ["leader": "\(leader)"]) }
        phase = .following(leader)
    }

    private func won(lease: Int64, revision: Int64, sent: ContinuousClock.Instant) -> any MasterRegistry {
        self.lease = lease
        leaseDeadline = sent + .seconds(ttl)
        let fence = EtcdFence(leaderKey: leaderKey, createRevision: revision)
        self.fence = fence
        phase = .won
        logger.info("Elected leader", metadata: ["fence": "\(fence)", "lease_ttl": "\(ttl)s"])
        keepAlive = Task { [weak self] in await self?.renewUntilLost() }
        return EtcdMasterRegistry(client: client, prefix: prefix, fence: fence) { [weak self] in
            Task { await self?.lose("etcd refused a registry write fenced on \(fence): another master leads") }
        }
    }

    /// Renews the lease every third of its TTL until it is lost.
    private func renewUntilLost() async {
        let interval = Duration.milliseconds(ttl * 1000 / 3)
        while !Task.isCancelled, phase == .won || phase == .leading {
            let wait = min(interval, leaseDeadline - .now)
            if wait > .zero { try? await Task.sleep(for: wait) }
            guard !Task.isCancelled, phase == .won || phase == .leading else { return }
            if ContinuousClock.now >= leaseDeadline { return lose("it could not renew its etcd lease within \(ttl)s") }
            let sent = ContinuousClock.now
            do {
                let left = try await client.keepAlive(lease: lease)
                guard left > 0 else { return lose("etcd says its lease \(lease) has expired") }
                leaseDeadline = sent + .seconds(min(left, ttl))
            } catch {
                logger.warning("Cannot renew the etcd lease; retrying until it would expire", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Deposed: stop leading at once, and tell the process.
    func lose(_ reason: String) {
        guard phase == .won || phase == .leading else { return }
        phase = .deposed
        keepAlive?.cancel()
        logger.critical("Lost the leadership: stepping down", metadata: ["reason": "\(reason)", "fence": "\(fence?.description ?? "-")"])
        onLost(reason)
    }
}
