public import CapstanCore
import Foundation
import NIOCore

/// A client of etcd v3 through its JSON gateway (`POST /v3/...`, served by etcd 3.4 and later), over the project's
/// HTTP client: no gRPC. Each call tries the endpoints in order and answers from the first that replies.
public struct EtcdClient: Sendable {
    /// `http://HOST:PORT` of each etcd member.
    public let endpoints: [String]
    let poster: JSONPoster

    /// `endpoints` as `--etcd` takes them: `http://127.0.0.1:2379,http://…` (a bare `HOST:PORT` means `http://`).
    public init(endpoints: [String], timeout: Duration = .seconds(2)) throws(CapstanError) {
        let cleaned = endpoints.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { endpoint in
            var url = endpoint.contains("://") ? endpoint : "http://" + endpoint
            while url.hasSuffix("/") { url.removeLast() }
            return url
        }
        guard !cleaned.isEmpty else { throw CapstanError(.invalidArgument, "No etcd endpoint given (e.g. --etcd http://127.0.0.1:2379)") }
        for url in cleaned where !url.hasPrefix("http://") {
            throw CapstanError(.invalidArgument, "etcd endpoint '\(url)' is not http://HOST:PORT (the JSON gateway is reached over plain HTTP)")
        }
        self.endpoints = cleaned
        let milliseconds = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        poster = JSONPoster(timeout: .milliseconds(max(milliseconds, 1)))
    }

    /// The keys at `key`, or under it when `prefix`.
    public func range(_ key: String, prefix: Bool = false) async throws -> [EtcdKeyValue] {
        var body: [String: Any] = ["key": EtcdWire.base64(key)]
        if prefix { body["range_end"] = EtcdWire.prefixEnd(key) }
        let reply: EtcdWire.RangeResponse = try await call("/v3/kv/range", body)
        return (reply.kvs ?? []).map { $0.decoded() }
    }

    /// Sets `key` (attached to `lease` unless 0); returns the store's new revision.
    @discardableResult
    public func put(_ key: String, _ value: Data, lease: Int64 = 0) async throws -> Int64 {
        var body: [String: Any] = ["key": EtcdWire.base64(key), "value": value.base64EncodedString()]
        if lease != 0 { body["lease"] = String(lease) }
        let reply: EtcdWire.RangeResponse = try await call("/v3/kv/put", body)
        return Int64(reply.header?.revision ?? "0") ?? 0
    }

    /// Deletes `key`, or every key under it when `prefix`.
    public func delete(_ key: String, prefix: Bool = false) async throws {
        var body: [String: Any] = ["key": EtcdWire.base64(key)]
        if prefix { body["range_end"] = EtcdWire.prefixEnd(key) }
        let _: EtcdWire.RangeResponse = try await call("/v3/kv/deleterange", body)
    }

    /// Runs `success` when every compare holds, `failure` otherwise, atomically.
    public func txn(compare: [EtcdCompare], success: [EtcdOperation], failure: [EtcdOperation] = []) async throws -> EtcdTxnResult {
        let body: [String: Any] = [
            "compare": compare.map(EtcdWire.body), "success": success.map(EtcdWire.body), "failure": failure.map(EtcdWire.body),
        ]
        let reply: EtcdWire.TxnResponse = try await call("/v3/kv/txn", body)
        return EtcdTxnResult(
            succeeded: reply.succeeded ?? false, revision: Int64(reply.header?.revision ?? "0") ?? 0,
            ranges: (reply.responses ?? []).compactMap { response in response.response_range.map { range in (range.kvs ?? []).map { $0.decoded() } } })
    }

    /// A new lease of `ttl` seconds; returns its ID.
    public func grantLease(ttl: Int) async throws -> Int64 {
        let reply: EtcdWire.LeaseGrantResponse = try await call("/v3/lease/grant", ["TTL": ttl])
        guard let id = reply.ID.flatMap({ Int64($0) }), id != 0 else {
            throw CapstanError(.unavailable, "etcd granted no lease: \(reply.error ?? "no ID in its answer")")
        }
        return id
    }

    /// Renews `lease` once; returns its remaining TTL in seconds, 0 when etcd no longer knows it (it expired).
    public func keepAlive(lease: Int64) async throws -> Int {
        let reply: EtcdWire.KeepAliveResponse = try await call("/v3/lease/keepalive", ["ID": String(lease)])
        if let error = reply.error { throw CapstanError(.unavailable, "etcd lease keepalive failed: \(error.message ?? "unknown error")") }
        return Int(reply.result?.TTL ?? "0") ?? 0
    }

    /// Ends `lease`, deleting its keys.
    public func revoke(lease: Int64) async throws {
        let _: EtcdWire.RangeResponse = try await call("/v3/lease/revoke", ["ID": String(lease)])
    }

    /// POSTs `body` to `path` on the first endpoint that answers, and decodes a 2xx reply.
    private func call<Reply: Decodable>(_ path: String, _ body: [String: Any]) async throws -> Reply {
        let text = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        var lastError: (any Error)?
        for endpoint in endpoints {
            let reply: JSONPoster.Reply
            do {
                reply = try await poster.postRaw(text, to: endpoint + path)
            } catch {
                lastError = error
                continue
            }
            guard reply.isSuccess else {
                let detail = (try? JSONDecoder().decode(EtcdWire.ErrorResponse.self, from: reply.body)).flatMap { $0.message ?? $0.error }
                throw CapstanError(
                    .init(httpStatus: reply.status), "etcd at \(endpoint) refused \(path) (HTTP \(reply.status)): \(detail ?? reply.text)")
            }
            do {
                return try JSONDecoder().decode(Reply.self, from: reply.body)
            } catch {
                throw CapstanError(.internal, "etcd at \(endpoint) answered \(path) with JSON this client cannot read: \(reply.text)", cause: error)
            }
        }
        throw CapstanError(
            .unavailable, "No etcd endpoint answered \(path) (tried \(endpoints.joined(separator: ", "))); is etcd running?",
            cause: lastError)
    }
}
