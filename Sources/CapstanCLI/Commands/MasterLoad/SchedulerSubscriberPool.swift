import AsyncHTTPClient
import CapstanAPI
import CapstanAPIClient
import CapstanCore
import Foundation
import Synchronization

/// Scheduler subscribers held open for a benchmark: each one a framework with its own v1 SUBSCRIBE RecordIO stream,
/// read to the end, counting its events. A stream that ends or fails before ``close()`` counts as dropped.
final class SchedulerSubscriberPool: Sendable {
    /// What the subscribers saw.
    struct Counts: Sendable {
        var subscribed = 0
        /// Subscriptions that failed, by kind (the `CapstanError` code), with one message of each kind.
        var failed: [String: Int] = [:]
        var failureSamples: [String: String] = [:]
        /// Streams that ended or failed while they should have stayed open, by reason.
        var dropped: [String: Int] = [:]
        var heartbeats = 0
        var otherEvents = 0
        /// Seconds from sending SUBSCRIBE to the SUBSCRIBED event, per subscriber that got one.
        var subscribeSeconds: [Double] = []

        var droppedCount: Int { dropped.values.reduce(0, +) }
        var failedCount: Int { failed.values.reduce(0, +) }
    }

    private struct State {
        var counts = Counts()
        var closing = false
        var subscriptions: [SchedulerSubscription] = []
        var readers: [Task<Void, Never>] = []
    }

    private let state = Mutex(State())

    var counts: Counts { state.withLock { $0.counts } }

    /// Subscribes `count` frameworks at once and returns when every one is subscribed or has failed; each stream
    /// then stays open (read by its own task) until ``close()``.
    func open(count: Int, master: HostPort, client: HTTPClient, timeout: Duration) async {
        await withDiscardingTaskGroup { group in
            for index in 0..<count {
                group.addTask { await self.subscribe(index, master: master, client: client, timeout: timeout) }
            }
        }
    }

    private func subscribe(_ index: Int, master: HostPort, client: HTTPClient, timeout: Duration) async {
        let info = FrameworkInfo(user: "nobody", name: "capstan-bench-subscriber-\(index)")
        let start = ContinuousClock.now
        let subscription: SchedulerSubscription
        do {
            subscription = try await SchedulerClient(master: master, client: client).subscribe(info, timeout: timeout)
        } catch {
            let kind = (error as? CapstanError)?.code.description ?? "\(type(of: error))"
            state.withLock {
                $0.counts.failed[kind, default: 0] += 1
                if $0.counts.failureSamples[kind] == nil { $0.counts.failureSamples[kind] = "\(error)" }
            }
            return
        }
        let elapsed = (ContinuousClock.now - start).seconds
        let reader = Task { await self.read(subscription) }
        state.withLock {
            $0.counts.subscribed += 1
            $0.counts.subscribeSeconds.append(elapsed)
            $0.subscriptions.append(subscription)
            $0.readers.append(reader)
        }
    }

    /// Counts the stream's events until it ends; an end before ``close()`` is a drop.
    private func read(_ subscription: SchedulerSubscription) async {
        var reason = "the master closed the stream"
        do {
            for try await event in subscription.events {
                state.withLock {
                    if event.type == .heartbeat { $0.counts.heartbeats += 1 } else { $0.counts.otherEvents += 1 }
                }
            }
        } catch {
            reason = "stream failed: \((error as? CapstanError)?.code.description ?? "\(type(of: error))")"
        }
        state.withLock { if !$0.closing { $0.counts.dropped[reason, default: 0] += 1 } }
    }

    /// Closes every stream (the master sees each framework disconnect) and waits for the readers to finish.
    func close() async {
        let (subscriptions, readers) = state.withLock { state in
            state.closing = true
            return (state.subscriptions, state.readers)
        }
        for subscription in subscriptions { subscription.close() }
        for reader in readers { await reader.value }
    }
}
