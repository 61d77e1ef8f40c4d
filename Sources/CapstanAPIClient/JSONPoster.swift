import AsyncHTTPClient
import CapstanAPI
import CapstanCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOFoundationCompat

/// Posts Mesos JSON messages and reads whole JSON answers; used by agent-to-master and master-to-agent links.
public struct JSONPoster: Sendable {
    public let client: HTTPClient
    public let timeout: TimeAmount

    public init(client: HTTPClient = .shared, timeout: TimeAmount = .seconds(10)) {
        self.client = client
        self.timeout = timeout
    }

    /// A reply: status code and body.
    public struct Reply: Sendable {
        public var status: Int
        public var body: Data
        public var isSuccess: Bool { (200..<300).contains(status) }

        /// The body as text, for error messages.
        public var text: String { String(decoding: body, as: UTF8.self) }

        public init(status: Int, body: Data) {
            self.status = status
            self.body = body
        }
    }

    /// POSTs raw bytes (for tools and tests that send what they like).
    public func postRaw(_ body: String, to url: String, contentType: String = "application/json", headers: [(String, String)] = []) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        return try await execute(request)
    }

    /// GETs a URL.
    public func get(_ url: String) async throws -> Reply {
        try await execute(HTTPClientRequest(url: url))
    }

    private func execute(_ request: HTTPClientRequest) async throws -> Reply {
        do {
            let response = try await client.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 64 << 20)
            return Reply(status: Int(response.status.code), body: Data(buffer: body))
        } catch {
            throw CapstanError(.unavailable, "\(request.method) \(request.url) failed", cause: error)
        }
    }

    /// POSTs `message` as JSON to `url` and returns the reply; throws `unavailable` when the peer cannot be reached.
    public func post(_ message: some Encodable, to url: String, headers: [(String, String)] = []) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: try MesosJSON.encode(message)))
        do {
            let response = try await client.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 64 << 20)
            return Reply(status: Int(response.status.code), body: Data(buffer: body))
        } catch {
            throw CapstanError(.unavailable, "POST \(url) failed", cause: error)
        }
    }

    /// POSTs and decodes a successful JSON reply; a non-2xx reply throws with the peer's text.
    public func call<Reply: Decodable>(_ message: some Encodable, to url: String, expecting: Reply.Type) async throws -> Reply {
        let reply = try await post(message, to: url)
        guard reply.isSuccess else {
            throw CapstanError(reply.status == 404 ? .notFound : .failedPrecondition, "POST \(url) answered \(reply.status): \(reply.text)")
        }
        return try MesosJSON.decode(Reply.self, from: reply.body)
    }
}
