import CapstanHTTP
import Foundation

/// One event of the reconciler dashboard's stream: `STATUS_CHANGED` (with the apps whose status changed and the
/// commits) or `HEARTBEAT`.
public struct ReconcilerDashboardEvent: Codable, Sendable, Equatable {
    public var type: String
    public var apps: [String]?
    public var headCommit: String?
    public var appliedCommit: String?

    public init(type: String, apps: [String]? = nil, headCommit: String? = nil, appliedCommit: String? = nil) {
        self.type = type
        self.apps = apps
        self.headCommit = headCommit
        self.appliedCommit = appliedCommit
    }
}

/// Broadcasts status changes to the dashboard's event streams. The reconciler's status is derived from its state on
/// demand, so while at least one stream is open the feed derives it every `interval` (once for all streams) and
/// sends `STATUS_CHANGED` when it differs from the last one sent (the time of the last git read aside, which moves on
/// every poll); with no stream open it does nothing.
public actor ReconcilerStatusFeed {
    let status: @Sendable () async -> ReconcilerStatus
    let interval: Duration
    let heartbeat: Duration
    let bufferBytes: Int
    var subscribers: [UUID: StreamSubscriber<ReconcilerDashboardEvent>] = [:]
    var last: ReconcilerStatus?
    var watcher: Task<Void, Never>?

    public init(
        status: @escaping @Sendable () async -> ReconcilerStatus, interval: Duration = .milliseconds(250),
        heartbeat: Duration = .seconds(15), bufferBytes: Int = 1 << 20
    ) {
        self.status = status
        self.interval = interval
        self.heartbeat = heartbeat
        self.bufferBytes = bufferBytes
    }

    /// A new stream; the first one takes the status the next changes are measured from, and starts the watch.
    public func subscribe() async -> (UUID, StreamSubscriber<ReconcilerDashboardEvent>) {
        if last == nil {
            var baseline = await status()
            baseline.lastSync = nil
            if last == nil { last = baseline }
        }
        let subscriber = StreamSubscriber<ReconcilerDashboardEvent>(limit: bufferBytes)
        let key = UUID()
        subscribers[key] = subscriber
        if watcher == nil {
            watcher = Task { [weak self] in await self?.watch() }
        }
        return (key, subscriber)
    }

    /// A stream ended; the last one stops the watch.
    public func unsubscribe(_ key: UUID) {
        subscribers.removeValue(forKey: key)?.finish()
        if subscribers.isEmpty {
            watcher?.cancel()
            watcher = nil
            last = nil
        }
    }

    public var subscriberCount: Int { subscribers.count }

    func watch() async {
        var sinceHeartbeat = Duration.zero
        while !Task.isCancelled {
            await check()
            try? await Task.sleep(for: interval)
            sinceHeartbeat += interval
            if sinceHeartbeat >= heartbeat {
                sinceHeartbeat = .zero
                send(ReconcilerDashboardEvent(type: "HEARTBEAT"))
            }
        }
    }

    /// Derives the status once and sends `STATUS_CHANGED` if it changed since the last one sent.
    func check() async {
        var current = await status()
        current.lastSync = nil
        guard let previous = last else {
            last = current
            return
        }
        guard previous != current else { return }
        last = current
        send(ReconcilerDashboardEvent(
            type: "STATUS_CHANGED", apps: Self.changedApps(from: previous, to: current), headCommit: current.headCommit,
            appliedCommit: current.appliedCommit))
    }

    /// Names of the apps added, removed or changed between two status documents.
    static func changedApps(from old: ReconcilerStatus, to new: ReconcilerStatus) -> [String] {
        let before = Dictionary(old.apps.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(new.apps.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        return Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
    }

    func send(_ event: ReconcilerDashboardEvent) {
        for (key, subscriber) in subscribers where !subscriber.yield(event) {
            subscribers.removeValue(forKey: key)
        }
    }
}
