@testable import CapstanHTTP
import Foundation
import NIOCore
import Testing

/// An event of a chosen size.
struct Padded: Codable, Sendable {
    var n: Int
    var pad: String
    init(_ n: Int, bytes: Int = 1000) {
        self.n = n
        self.pad = String(repeating: "x", count: bytes)
    }
}

@Suite("StreamSubscriber")
struct StreamSubscriberTests {
    @Test("A subscriber more than its bound behind overflows: its queue is dropped and the stream ends")
    func overflowDropsQueueAndEnds() async throws {
        let subscriber = StreamSubscriber<Padded>(limit: 10_000)
        var queued = 0
        while subscriber.yield(Padded(queued)) {
            queued += 1
            #expect(queued < 1000, "the bound was never reached")
            if queued >= 1000 { break }
        }
        #expect(queued >= 9 && queued <= 10, "1 KB events against a 10,000-byte bound: \(queued) queued")
        #expect(subscriber.overflowed)
        #expect(subscriber.queuedBytes == 0, "an overflowed subscriber keeps nothing queued")
        #expect(!subscriber.yield(Padded(0)), "nothing is queued after an overflow")
        let (records, _) = await drain(subscriber)
        #expect(records == 0, "an overflowed stream ends without the dropped records")
    }

    @Test("An event larger than the bound is still sent when nothing else waits")
    func largeEventFitsWhenEmpty() async throws {
        let subscriber = StreamSubscriber<Padded>(limit: 1000)
        #expect(subscriber.yield(Padded(1, bytes: 50_000)))
        #expect(!subscriber.overflowed)
        subscriber.finish()
        let (records, bytes) = await drain(subscriber)
        #expect(records == 1 && bytes > 50_000)
    }

    @Test("Finish ends the stream after the records already queued, and a reader keeps the queue short")
    func finishDeliversQueued() async throws {
        let subscriber = StreamSubscriber<Padded>(limit: 4000)
        let reader = Task { await drain(subscriber) }
        for index in 0..<500 {
            // A reader that keeps up never overflows; give it a moment now and then.
            #expect(subscriber.yield(Padded(index, bytes: 100)))
            if index % 10 == 0 { try await Task.sleep(for: .milliseconds(1)) }
            if subscriber.overflowed { break }
        }
        subscriber.finish()
        let (records, _) = await reader.value
        #expect(!subscriber.overflowed)
        #expect(records == 500)
    }

    @Test("The overflow hook runs once, when the bound is passed")
    func overflowHookRuns() async throws {
        let calls = Counter()
        let subscriber = StreamSubscriber<Padded>(limit: 2500)
        subscriber.onOverflow { calls.add() }
        for index in 0..<10 { subscriber.yield(Padded(index)) }
        #expect(calls.value == 1)
    }

    func drain(_ subscriber: StreamSubscriber<Padded>) async -> (records: Int, bytes: Int) {
        var records = 0
        var bytes = 0
        while let record = await subscriber.next() {
            records += 1
            bytes += record.readableBytes
        }
        return (records, bytes)
    }
}
