import CapstanCore
import CapstanHTTP
import CapstanTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// The HTTP server's per-client limits, tried with raw sockets against a live server on a free loopback port.
@Suite("ConnectionLimits")
struct ConnectionLimitsTests {
    static let quick = ConnectionLimits(
        headerTimeout: .milliseconds(300), bodyTimeout: .milliseconds(300), idleTimeout: .milliseconds(300),
        maxConnectionsPerPeer: 0, streamBufferBytes: 64 << 10)

    func app(
        _ limits: ConnectionLimits, streamClosed: Counter = Counter(), logger: Logger = Logger(label: "test")
    ) throws -> some ApplicationProtocol {
        let router = Router()
        router.get("health") { _, _ in Response(status: .ok) }
        router.get("slow") { _, _ in
            try await Task.sleep(for: .seconds(1))
            return Response(status: .ok)
        }
        router.post("echo") { request, _ in
            Response(status: .ok, body: .init(byteBuffer: try await request.body.collect(upTo: 1 << 20)))
        }
        router.get("stream") { _, _ in
            let subscriber = StreamSubscriber<Padded>(limit: limits.streamBufferBytes)
            Task {
                // Events until the subscriber is cut off (bounded: 20,000 events of 1 KB).
                for index in 0..<20_000 where subscriber.yield(Padded(index)) {
                    if index % 100 == 0 { try await Task.sleep(for: .milliseconds(1)) }
                }
            }
            return RecordIOStream.response(subscriber: subscriber) { streamClosed.add() }
        }
        return try HTTPServer.application(
            router: router, listen: HostPort(host: "127.0.0.1", port: 0), serverName: "limits-test", limits: limits,
            logger: logger)
    }

    /// One GET on a new raw connection; the response head and whatever body came with it.
    static func get(_ path: String, from endpoint: HostPort, source: String? = nil) async throws -> String {
        let connection = try RawConnection(to: endpoint, from: source)
        try connection.send("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        var answer: [UInt8] = []
        let deadline = ContinuousClock.now + .seconds(5)
        while !String(decoding: answer, as: UTF8.self).contains("\r\n\r\n"), ContinuousClock.now < deadline {
            guard let more = connection.readAvailable() else { break }
            answer += more
            try await Task.sleep(for: .milliseconds(10))
        }
        return String(decoding: answer, as: UTF8.self)
    }

    @Test("A connection that never completes its request head is closed after the header timeout")
    func halfSentHeadIsClosed() async throws {
        try await app(Self.quick).test(.live) { client in
            let port = try #require(client.port)
            let slow = try RawConnection(to: HostPort(host: "127.0.0.1", port: port))
            try slow.send("GET /health HTTP/1.1\r\nHost: x\r\n")
            let silent = try RawConnection(to: HostPort(host: "127.0.0.1", port: port))
            #expect(await slow.closedByPeer(within: .seconds(5)), "a half-sent head must be cut off")
            #expect(await silent.closedByPeer(within: .seconds(5)), "a connection that sends nothing must be cut off")
            // (The test client's own idle connection was cut off too: ask on a new one.)
            #expect(try await Self.get("/health", from: HostPort(host: "127.0.0.1", port: port)).hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test("Dribbling a head byte by byte does not keep a connection open past the header timeout")
    func dribbledHeadIsClosed() async throws {
        try await app(Self.quick).test(.live) { client in
            let port = try #require(client.port)
            let slow = try RawConnection(to: HostPort(host: "127.0.0.1", port: port))
            let started = ContinuousClock.now
            var closed = false
            for byte in "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n" {
                if slow.readAvailable() == nil { closed = true; break }
                try? slow.send(String(byte))
                try await Task.sleep(for: .milliseconds(50))
            }
            if !closed { closed = await slow.closedByPeer(within: .seconds(3)) }
            #expect(closed)
            #expect(ContinuousClock.now - started < .seconds(3))
        }
    }

    @Test("A request body that stalls is cut off after the body timeout")
    func stalledBodyIsClosed() async throws {
        try await app(Self.quick).test(.live) { client in
            let port = try #require(client.port)
            let slow = try RawConnection(to: HostPort(host: "127.0.0.1", port: port))
            try slow.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
            #expect(await slow.closedByPeer(within: .seconds(5)))
        }
    }

    @Test("An idle keep-alive connection is closed after the idle timeout, not while requests keep coming")
    func idleKeepAliveIsClosed() async throws {
        var limits = Self.quick
        limits.idleTimeout = .seconds(2)
        // A new connection must send its first head within the header timeout of opening; on a loaded machine (CI's
        // full suite) the client's first sends can lag the connect by seconds, so the header timeout is well beyond
        // this test's window: a close within it can only be the idle timer's.
        limits.headerTimeout = .seconds(10)
        let idleTimeout = limits.idleTimeout
        let serverLog = CapturedLog()
        var logger = Logger(label: "test") { _ in serverLog }
        logger.logLevel = .debug
        try await app(limits, logger: logger).test(.live) { client in
            let port = try #require(client.port)
            var lastAnswer = ContinuousClock.now
            let connection = try RawConnection(to: HostPort(host: "127.0.0.1", port: port))
            let opened = ContinuousClock.now
            requests: for request in 0..<5 {
                // On a loaded machine a sleep can outlast the idle timeout; then closing is right, and the test stops.
                if ContinuousClock.now - lastAnswer > .seconds(1) { break }
                let sentAt = ContinuousClock.now
                try connection.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                var answer: [UInt8] = []
                let deadline = ContinuousClock.now + .seconds(5)
                while !String(decoding: answer, as: UTF8.self).contains("\r\n\r\n"), ContinuousClock.now < deadline {
                    guard let more = connection.readAvailable() else {
                        // Closed: right only if this client stalled past the idle timeout before it sent the request.
                        #expect(
                            sentAt - lastAnswer >= idleTimeout,
                            "closed while in use: request \(request) sent \(sentAt - opened) after connecting; the server logged: \(serverLog.lines)")
                        break requests
                    }
                    answer += more
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(String(decoding: answer, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
                lastAnswer = ContinuousClock.now
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(await connection.closedByPeer(within: .seconds(5)))
        }
    }

    @Test("A pipelined request whose head has arrived is answered, however long the request before it takes")
    func pipelinedHeadWaitsForTheServer() async throws {
        try await app(Self.quick).test(.live) { client in
            let port = try #require(client.port)
            let connection = try RawConnection(to: HostPort(host: "127.0.0.1", port: port))
            // The second head is all sent at once; the first answer takes longer than the header timeout (300 ms).
            try connection.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            var answer = ""
            let deadline = ContinuousClock.now + .seconds(10)
            while answer.components(separatedBy: "HTTP/1.1 200").count < 3, ContinuousClock.now < deadline {
                guard let more = connection.readAvailable() else { break }
                answer += String(decoding: more, as: UTF8.self)
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(answer.components(separatedBy: "HTTP/1.1 200").count == 3, "both requests answered: \(answer)")
        }
    }

    @Test("Blank lines alone are no request head: a connection sending only those is closed after the header timeout")
    func blankLinesDoNotStopTheHeadClock() async throws {
        try await app(Self.quick).test(.live) { client in
            let port = try #require(client.port)
            let connection = try RawConnection(to: HostPort(host: "127.0.0.1", port: port))
            try connection.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            var closed = false
            let deadline = ContinuousClock.now + .seconds(5)
            while !closed, ContinuousClock.now < deadline {
                if connection.readAvailable() == nil { closed = true; break }
                try? connection.send("\r\n\r\n")
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(closed, "a client sending only blank lines is cut off")
        }
    }

    @Test("Connections beyond a peer's cap are closed at once; other peers and freed slots are served")
    func peerCapClosesExcess() async throws {
        var limits = Self.quick
        limits.headerTimeout = .seconds(30)
        limits.idleTimeout = .seconds(30)
        limits.maxConnectionsPerPeer = 4
        try await app(limits).test(.live) { client in
            let endpoint = HostPort(host: "127.0.0.1", port: try #require(client.port))
            var held: [RawConnection] = []
            for _ in 0..<4 {
                let connection = try RawConnection(to: endpoint, from: "127.0.0.2")
                try connection.send("GET /health HTTP/1.1\r\n")
                held.append(connection)
            }
            try await Task.sleep(for: .milliseconds(200))
            let excess = try RawConnection(to: endpoint, from: "127.0.0.2")
            #expect(await excess.closedByPeer(within: .seconds(2)), "the fifth connection of a peer must be closed")
            for connection in held { #expect(connection.readAvailable() != nil, "admitted connections stay open") }
            // Another peer (127.0.0.1, the test client) is still served.
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            // Once the peer's connections close, it may connect again.
            for connection in held { connection.close() }
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await Self.get("/health", from: endpoint, source: "127.0.0.2").hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test("A stream client that never reads is disconnected once its queue passes the bound")
    func nonReadingStreamClientIsDisconnected() async throws {
        let closed = Counter()
        var limits = Self.quick
        limits.headerTimeout = .seconds(30)
        try await app(limits, streamClosed: closed).test(.live) { client in
            let endpoint = HostPort(host: "127.0.0.1", port: try #require(client.port))
            let stuck = try RawConnection(to: endpoint, receiveBuffer: 4096)
            try stuck.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
            try await eventually("the stream's onClose ran", timeout: .seconds(20)) { closed.value == 1 }
            #expect(await stuck.closedByPeer(within: .seconds(10)), "the connection must be closed, not left stalled")
        }
    }
}

/// A count shared with route closures.
final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
