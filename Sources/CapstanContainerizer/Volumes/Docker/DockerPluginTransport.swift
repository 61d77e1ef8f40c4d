import AsyncHTTPClient
import CapstanCore
import Foundation
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP POST to a Docker plugin and its whole answer, with a deadline over the entire exchange (connect, head
/// and body) and a cap on the body, so a plugin that stalls or answers without end cannot hold or exhaust the agent.
///
/// Throws `unavailable` only when no connection could be made (the request never reached the plugin, so it is
/// safe to send again); `timeout` when the deadline passed; `failedPrecondition` for an answer over the cap;
/// `internal` for a connection lost mid-exchange.
struct DockerPluginTransport: Sendable {
    /// The longest one exchange may take.
    var timeout: Duration
    /// The largest answer body read.
    var maxResponseBytes: Int

    static let accept = "application/vnd.docker.plugins.v1+json"

    struct Response: Sendable {
        var status: Int
        var body: Data
    }

    /// POSTs `body` (JSON) to `path` at `address`.
    func post(_ body: Data, to path: String, at address: DockerPluginAddress) async throws -> Response {
        var request = HTTPClientRequest(url: address.url(for: path))
        request.method = .POST
        request.headers.add(name: "Accept", value: Self.accept)
        request.headers.add(name: "Content-Type", value: Self.accept)
        // A fresh connection per call: a pooled one the plugin closed meanwhile (it restarted) would fail after the
        // request may have been written, which cannot be told apart from a plugin that died handling it.
        request.headers.add(name: "Connection", value: "close")
        // HTTP/1.1 requires a Host header, and Go's server (most plugins) answers 400 without one; AsyncHTTPClient
        // adds none for a unix socket.
        if case .unixSocket = address { request.headers.add(name: "Host", value: "localhost") }
        request.body = .bytes(ByteBuffer(bytes: body))
        let prepared = request
        let limit = maxResponseBytes
        let timeout = timeout
        let nanoseconds = Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        do {
            return try await Self.within(timeout, what: "\(path) to \(address)") {
                let response = try await Self.client.execute(prepared, deadline: .now() + .nanoseconds(nanoseconds))
                let collected = try await response.body.collect(upTo: limit)
                return Response(status: Int(response.status.code), body: Data(collected.readableBytesView))
            }
        } catch let error as CapstanError {
            throw error
        } catch is NIOTooManyBytesError {
            throw CapstanError(
                .failedPrecondition,
                "the Docker plugin at \(address) answered \(path) with more than \(limit) bytes; the answer was refused")
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            throw CapstanError(.timeout, "the Docker plugin at \(address) did not answer \(path) within \(timeout)")
        } catch  where Self.isConnectFailure(error) {
            throw CapstanError(.unavailable, "cannot connect to the Docker plugin at \(address)", cause: error)
        } catch {
            throw CapstanError(.internal, "the exchange of \(path) with the Docker plugin at \(address) failed", cause: error)
        }
    }

    /// Whether `error` says the connection was never made (so the request never reached the plugin).
    static func isConnectFailure(_ error: any Error) -> Bool {
        if let error = error as? IOError {
            return [ECONNREFUSED, ENOENT, ENOTSOCK, EAGAIN, ECONNABORTED, EHOSTUNREACH, ENETUNREACH].contains(error.errnoCode)
        }
        if error is NIOConnectionError { return true }
        if let error = error as? ChannelError, case .connectTimeout = error { return true }
        if let error = error as? HTTPClientError, error == .connectTimeout { return true }
        return false
    }

    /// Runs `body`, cancelling it and throwing `timeout` when it takes longer than `timeout`.
    static func within<T: Sendable>(_ timeout: Duration, what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw CapstanError(.timeout, "the Docker plugin call \(what) did not finish within \(timeout)")
            }
            return value
        }
    }

    /// The client plugins are reached through, for the life of the process (as AsyncHTTPClient's shared client):
    /// connection attempts are not retried inside it — ``DockerPluginClient`` retries with Docker's backoff.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5)))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}
