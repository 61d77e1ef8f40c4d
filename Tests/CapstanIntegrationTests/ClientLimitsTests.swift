import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Synchronization
import Testing

/// What a reading stream client got: bytes, HEARTBEAT records, whether the server closed it.
final class ReaderTally: Sendable {
    private struct State {
        var bytes = 0
        var heartbeats = 0
        var closed = false
        var tail: [UInt8] = []
    }
    private let state = Mutex(State())

    func add(_ chunk: [UInt8]) {
        state.withLock { state in
            state.bytes += chunk.count
            let text = String(decoding: state.tail + chunk, as: UTF8.self)
            state.heartbeats += text.components(separatedBy: "HEARTBEAT").count - 1
            state.tail = Array(chunk.suffix(8))
        }
    }
    func close() { state.withLock { $0.closed = true } }
    var bytes: Int { state.withLock { $0.bytes } }
    var heartbeats: Int { state.withLock { $0.heartbeats } }
    var closed: Bool { state.withLock { $0.closed } }
}

extension EndToEnd {
    /// Clients that hold a master's resources on purpose (issue 9 item 7): half-sent requests, streams never read,
    /// offers never answered. Attackers connect from other loopback addresses (127.0.0.2 and up), so the caps they
    /// hit are theirs; the test's own client is 127.0.0.1.
    @Suite("Per-client limits")
    struct ClientLimitsTests {
        static let mib = 1024

        /// A health check answered within one second, timed.
        static func answersQuickly(_ master: HostPort) async throws -> Duration {
            let started = ContinuousClock.now
            let reply = try await OperatorClient(master).get("/health")
            #expect(reply.status == 200)
            return ContinuousClock.now - started
        }

        @Test("A slowloris of 2,000 half-sent requests leaves the master answering, its fds released, its memory bounded")
        func slowloris() async throws {
            let cap = 64
            try await TestCluster(masterFlags: ["--max-connections-per-peer", "\(cap)", "--request-header-timeout", "2secs"]).run { cluster in
                try await cluster.startMaster()
                let pid = try #require(cluster.masterProcess?.pid)
                for _ in 0..<20 { _ = try await Self.answersQuickly(cluster.master) }
                let baseFiles = ProcessStats.openFiles(pid)
                let baseRSS = ProcessStats.residentKiB(pid)
                let peers = 4
                var attackers: [RawConnection] = []
                var slowest = Duration.zero
                for index in 0..<2000 {
                    if let connection = try? RawConnection(to: cluster.master, from: "127.0.0.\(2 + index % peers)") {
                        try? connection.send("POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
                        attackers.append(connection)
                    }
                    if index % 250 == 249 { slowest = max(slowest, try await Self.answersQuickly(cluster.master)) }
                }
                slowest = max(slowest, try await Self.answersQuickly(cluster.master))
                #expect(slowest < .seconds(1), "a health check took \(slowest) during the attack")
                let during = ProcessStats.openFiles(pid)
                #expect(
                    during <= baseFiles + peers * cap + 32,
                    "the master holds \(during) fds during the attack (\(baseFiles) before, cap \(cap) per peer)")
                // The connections it kept are cut off by the header timeout; the attackers never close theirs.
                try await eventually("the master's fds released", timeout: .seconds(20), interval: .milliseconds(200)) {
                    ProcessStats.openFiles(pid) <= baseFiles + 8
                }
                #expect(try await Self.answersQuickly(cluster.master) < .seconds(1))
                for connection in attackers { connection.close() }
                let rss = ProcessStats.residentKiB(pid)
                #expect(rss <= baseRSS + 64 * Self.mib, "RSS \(rss / Self.mib) MiB after the attack, \(baseRSS / Self.mib) MiB before")
            }
        }

        /// An operator SUBSCRIBE over a raw socket; `receiveBuffer` small for a client that will never read.
        static func operatorSubscriber(_ master: HostPort, receiveBuffer: Int32? = nil) throws -> RawConnection {
            let connection = try RawConnection(to: master, receiveBuffer: receiveBuffer)
            let body = #"{"type":"SUBSCRIBE"}"#
            try connection.send(
                "POST /api/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: application/json\r\n"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
            return connection
        }

        @Test("Operator subscribers that never read are disconnected, the master's memory stays bounded and readers keep receiving")
        func nonReadingOperatorSubscribers() async throws {
            // A 2 MiB bound: a reader that keeps up must never reach it, even when the master's own writer lags the
            // burst below on a loaded machine (at 1 MiB it sometimes did, and the test cut off its reader).
            try await TestCluster(masterFlags: ["--stream-buffer-kib", "2048"]).run { cluster in
                try await cluster.startMaster()
                let pid = try #require(cluster.masterProcess?.pid)
                let baseRSS = ProcessStats.residentKiB(pid)
                let reader = try Self.operatorSubscriber(cluster.master)
                let tally = ReaderTally()
                let drain = Task {
                    while !Task.isCancelled {
                        guard let chunk = reader.readAvailable() else { return tally.close() }
                        tally.add(chunk)
                        // A reader that keeps up: it pauses only when nothing was waiting.
                        if chunk.isEmpty { try? await Task.sleep(for: .milliseconds(2)) } else { await Task.yield() }
                    }
                }
                defer { drain.cancel() }
                let stuck = try (0..<8).map { _ in try Self.operatorSubscriber(cluster.master, receiveBuffer: 4096) }
                // Each framework that comes and goes is three events carrying its 40 KB name, to every subscriber:
                // 18 MB each, far more than the 2 MiB bound plus what the sockets hold.
                let name = String(repeating: "n", count: 40_000)
                var peakRSS = baseRSS
                for _ in 0..<150 {
                    let framework = try await EventRecorder.subscribe(cluster.master, name: name)
                    await framework.disconnect()
                    peakRSS = max(peakRSS, ProcessStats.residentKiB(pid))
                }
                for (index, connection) in stuck.enumerated() {
                    #expect(await connection.closedByPeer(within: .seconds(20)), "non-reading subscriber \(index) is still connected")
                }
                #expect(!tally.closed, "the reading subscriber was disconnected")
                #expect(tally.bytes > 1_000_000, "the reader got \(tally.bytes) bytes")
                // The reader still gets events: the next HEARTBEAT (every second in tests).
                let heartbeats = tally.heartbeats
                let bytesBefore = tally.bytes
                do {
                    try await eventually("a HEARTBEAT to the reading subscriber", timeout: .seconds(10)) { tally.heartbeats > heartbeats }
                } catch {
                    Issue.record("no HEARTBEAT: reader closed \(tally.closed), \(tally.bytes - bytesBefore) bytes since, \(heartbeats) heartbeats before")
                    throw error
                }
                let rss = ProcessStats.residentKiB(pid)
                #expect(
                    peakRSS <= baseRSS + 160 * Self.mib,
                    "RSS peaked at \(peakRSS / Self.mib) MiB (\(baseRSS / Self.mib) MiB before); now \(rss / Self.mib) MiB")
            }
        }

        @Test("A scheduler that never reads its stream is disconnected (its framework treated as gone) while another keeps receiving")
        func nonReadingScheduler() async throws {
            try await TestCluster(masterFlags: ["--stream-buffer-kib", "64"]).run { cluster in
                try await cluster.startMaster()
                let reader = try await EventRecorder.subscribe(cluster.master, name: "reader")
                let stuckID = "stuck-framework-1"
                let stuck = try RawConnection(to: cluster.master, receiveBuffer: 4096)
                let subscribe = #"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"stuck","id":{"value":"\#(stuckID)"}}}}"#
                try stuck.send(
                    "POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: application/json\r\n"
                        + "Content-Length: \(subscribe.utf8.count)\r\n\r\n\(subscribe)")
                // Read only the response head, for the stream ID; never read again.
                var head = ""
                try await eventually("the SUBSCRIBE response head") {
                    head += String(decoding: try #require(stuck.readAvailable()), as: UTF8.self)
                    return head.contains("\r\n\r\n")
                }
                let streamLine = try #require(head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("mesos-stream-id:") })
                let streamID = streamLine.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)
                // RECONCILE of 500 unknown tasks: 500 UPDATE events on the stuck stream per call.
                let tasks = (0..<500).map { #"{"task_id":{"value":"ghost-\#($0)"}}"# }.joined(separator: ",")
                let reconcile = #"{"framework_id":{"value":"\#(stuckID)"},"type":"RECONCILE","reconcile":{"tasks":[\#(tasks)]}}"#
                var disconnected = false
                for _ in 0..<200 {
                    let reply = try await OperatorClient(cluster.master).raw(
                        path: "/api/v1/scheduler", body: reconcile, headers: [("Mesos-Stream-Id", streamID)])
                    if !reply.isSuccess { disconnected = true; break }
                }
                #expect(disconnected, "the master kept the stuck scheduler subscribed through 100,000 queued updates")
                try await eventually("the stuck framework is no longer connected") {
                    let frameworks = try await OperatorClient(cluster.master).call(.getFrameworks).getFrameworks?.frameworks ?? []
                    return !frameworks.contains { $0.frameworkInfo.id?.value == stuckID && $0.connected }
                }
                #expect(await stuck.closedByPeer(within: .seconds(20)), "the stuck scheduler's connection is still open")
                let before = await reader.events.count
                try await eventually("a HEARTBEAT to the reader after the stuck scheduler was cut off") {
                    await reader.events.dropFirst(before).contains { $0.type == .heartbeat }
                }
                await reader.disconnect()
            }
        }

        @Test("With --offer-timeout, a framework that never answers offers does not starve a second one")
        func offerTimeoutRescindsHeldOffers() async throws {
            try await TestCluster(masterFlags: ["--offer-timeout", "1secs"]).run { cluster in
                try await cluster.startMaster()
                try await cluster.startAgent()
                // Subscribed first, so it has the lower framework ID and wins ties for the agent's resources.
                let stuck = try await EventRecorder.subscribe(cluster.master, name: "never-answers")
                let held = try #require(try await stuck.nextOffers().first)
                let second = try await EventRecorder.subscribe(cluster.master, name: "second")
                let offer = try #require(try await second.nextOffers(timeout: .seconds(10)).first)
                #expect(offer.agentID == held.agentID)
                _ = try await stuck.any("RESCIND of the held offer") { $0.type == .rescind && $0.rescind?.offerID == held.id }
                await stuck.disconnect()
                await second.disconnect()
            }
        }
    }
}
