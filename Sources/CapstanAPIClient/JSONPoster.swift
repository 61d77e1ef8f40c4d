import AsyncHTTPClient
import CapstanAPI
import CapstanAuth
import CapstanCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOFoundationCompat

/// Posts Mesos JSON messages and reads whole JSON answers; used by agent-to-master and master-to-agent links.
public struct JSONPoster: Sendable {
    public let client: HTTPClient
    public let timeout: TimeAmount
    /// When set, every POST is signed with this credential (``RequestSignature``): the internal master/agent calls.
    public let signer: CredentialSet.Credential?
    /// An `Authorization` header sent with every request (HTTP Basic or a bearer token of a framework or operator).
    public let authorization: String?
    /// When true every `http://` URL is requested as `https://` (a cluster that runs with TLS).
    public let secure: Bool

    public init(
        client: HTTPClient = .shared, timeout: TimeAmount = .seconds(10), signer: CredentialSet.Credential? = nil,
        authorization: String? = nil, secure: Bool = false
    ) {
        self.client = client
        self.timeout = timeout
        self.signer = signer
        self.authorization = authorization
        self.secure = secure
    }

    /// A poster that speaks HTTPS with `tls` (nil: plain HTTP with the shared client).
    public init(
        tls: ClientTLS?, timeout: TimeAmount = .seconds(10), signer: CredentialSet.Credential? = nil, authorization: String? = nil
    ) throws(CapstanError) {
        var client = HTTPClient.shared
        if let tls { client = try TLSClients.client(for: tls) }
        self.init(client: client, timeout: timeout, signer: signer, authorization: authorization, secure: tls != nil)
    }

    /// The same poster, signing with `credential` (nil: unsigned).
    public func signing(as credential: CredentialSet.Credential?) -> JSONPoster {
        JSONPoster(client: client, timeout: timeout, signer: credential, authorization: authorization, secure: secure)
    }

    /// `url` with its scheme upgraded to https when this poster is secure.
    public func resolve(_ url: String) -> String {
        secure && url.hasPrefix("http://") ? "https://" + url.dropFirst("http://".count) : url
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
        var request = HTTPClientRequest(url: resolve(url))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        return try await execute(request)
    }

    /// GETs a URL.
    public func get(_ url: String) async throws -> Reply {
        try await execute(HTTPClientRequest(url: resolve(url)))
    }

    /// Sends `request`, adding `authorization` unless it already carries one (a signature); `unavailable` when the
    /// peer cannot be reached.
    private func execute(_ request: HTTPClientRequest) async throws -> Reply {
        var request = request
        if let authorization, request.headers["Authorization"].isEmpty { request.headers.add(name: "Authorization", value: authorization) }
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
        let url = resolve(url)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let body = try MesosJSON.encode(message)
        if let signer {
            request.headers.replaceOrAdd(
                name: "Authorization",
                value: RequestSignature.authorization(
                    principal: signer.principal, secret: signer.secret, method: "POST", path: Self.path(of: url), body: body))
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        return try await execute(request)
    }

    /// The path of a URL (`http://host:port/a/b?q` → `/a/b`), as the server sees it when it checks a signature.
    static func path(of url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "/" }
        let path = rest[slash...]
        return String(path.prefix { $0 != "?" && $0 != "#" })
    }

    /// POSTs and decodes a successful JSON reply; a non-2xx reply throws with the peer's text.
    public func call<Reply: Decodable>(_ message: some Encodable, to url: String, expecting: Reply.Type) async throws -> Reply {
        let reply = try await post(message, to: url)
        guard reply.isSuccess else {
            throw CapstanError(.init(httpStatus: Int(reply.status)), "POST \(url) answered \(reply.status): \(reply.text)")
        }
        return try MesosJSON.decode(Reply.self, from: reply.body)
    }
}
