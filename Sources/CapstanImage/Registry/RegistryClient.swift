public import AsyncHTTPClient
public import CapstanCore
import Foundation
public import Logging
import NIOCore
import NIOHTTP1

/// How to reach registries: plain-HTTP hosts, extra CA certificates and credentials.
public struct RegistryOptions: Sendable {
    /// `HOST[:PORT]`s spoken to over plain HTTP instead of HTTPS; a bare `HOST` covers every port of that host.
    public var insecureRegistries: Set<String>
    /// PEM files of CA certificates trusted for registries' TLS, besides the system's.
    public var certificateAuthorities: [String]
    /// Credentials by registry host, used before any config file.
    public var credentials: [String: RegistryCredentials]
    /// Docker-style config files to read credentials from (the defaults when nil).
    public var authFiles: [String]?
    /// The platform picked from manifest lists and indexes.
    public var platform: Platform

    public init(
        insecureRegistries: Set<String> = [], certificateAuthorities: [String] = [], credentials: [String: RegistryCredentials] = [:],
        authFiles: [String]? = nil, platform: Platform = .current
    ) {
        self.insecureRegistries = insecureRegistries
        self.certificateAuthorities = certificateAuthorities
        self.credentials = credentials
        self.authFiles = authFiles
        self.platform = platform
    }

    /// Whether `host` (`HOST[:PORT]` as in a reference) is reached over plain HTTP.
    public func isInsecure(_ host: String) -> Bool {
        if insecureRegistries.contains(host) { return true }
        guard let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") else { return false }
        return insecureRegistries.contains(String(host[..<colon]))
    }
}

/// A client of one repository in a registry speaking the Docker Registry HTTP API v2 / OCI distribution spec.
/// Handles anonymous, basic and bearer-token auth through the `WWW-Authenticate` challenge flow.
public final class RegistryClient: Sendable {
    public let reference: RegistryReference
    let http: HTTPClient
    let logger: Logger
    let baseURL: String
    let credentials: RegistryCredentials?
    private let authorization = AuthorizationState()

    /// Accepted manifest types, most wanted first.
    static let manifestAccept = [MediaType.ociIndex, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.dockerManifest].joined(separator: ", ")

    /// A client for `reference`; `http` defaults to one trusting `options.certificateAuthorities` besides the system's CAs.
    public init(reference: RegistryReference, options: RegistryOptions, http: HTTPClient? = nil, logger: Logger) throws {
        self.reference = reference
        self.http = try http ?? RegistryHTTPClients.client(trusting: options.certificateAuthorities)
        self.logger = logger
        let scheme = options.isInsecure(reference.host) ? "http" : "https"
        baseURL = "\(scheme)://\(reference.endpointHost)/v2/\(reference.repository)"
        credentials = try options.credentials[reference.host] ?? DockerConfigFile.credentials(for: reference.host, paths: options.authFiles ?? DockerConfigFile.defaultPaths)
    }

    private actor AuthorizationState {
        var header: String?
        func set(_ value: String?) { header = value }
    }

    /// Fetches a manifest or index by tag or digest; verifies it against the digest asked for and the registry's
    /// `Docker-Content-Digest`.
    public func manifest(_ manifestReference: String) async throws -> (data: Data, mediaType: String?, digest: Digest) {
        let response = try await send(path: "/manifests/\(manifestReference)", accept: Self.manifestAccept)
        let body = try await response.body.collect(upTo: 16 << 20)
        let data = Data(body.readableBytesView)
        let digest = Digest.sha256(of: data)
        if let expected = try? Digest(parsing: manifestReference), expected != digest {
            throw CapstanError(.failedPrecondition, "manifest \(expected) from \(reference) failed verification: its content has digest \(digest)")
        }
        if let header = response.headers.first(name: "Docker-Content-Digest"), let claimed = try? Digest(parsing: header), claimed != digest {
            throw CapstanError(.failedPrecondition, "manifest \(manifestReference) from \(reference) has digest \(digest), but the registry says \(claimed)")
        }
        let mediaType = response.headers.first(name: "Content-Type").map { $0.split(separator: ";")[0].trimmingCharacters(in: .whitespaces) }
        return (data, mediaType, digest)
    }

    /// Streams blob `descriptor` into `writer`, calling `progress` with the bytes so far.
    public func blob(_ descriptor: Descriptor, into writer: BlobWriter, progress: @Sendable (Int64) -> Void) async throws {
        let response = try await send(path: "/blobs/\(descriptor.digest)", accept: "*/*", timeout: .hours(2))
        for try await chunk in response.body {
            try chunk.withUnsafeReadableBytes { try writer.write($0) }
            progress(writer.count)
        }
    }

    /// Sends a GET, answering one `401` challenge by authenticating and retrying.
    func send(path: String, accept: String, timeout: TimeAmount = .seconds(120)) async throws -> HTTPClientResponse {
        for attempt in 0..<2 {
            var request = HTTPClientRequest(url: baseURL + path)
            request.headers.add(name: "Accept", value: accept)
            request.headers.add(name: "User-Agent", value: "capstan")
            if let header = await authorization.header { request.headers.add(name: "Authorization", value: header) }
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, timeout: timeout)
            } catch {
                throw RegistryReachFailure.error(host: reference.host, url: baseURL + path, plainHTTP: baseURL.hasPrefix("http://"), underlying: error)
            }
            if response.status == .unauthorized && attempt == 0 {
                _ = try? await response.body.collect(upTo: 1 << 20)
                guard let header = response.headers.first(name: "WWW-Authenticate"), let challenge = AuthChallenge(header: header) else {
                    throw CapstanError(.permissionDenied, "registry \(reference.host) refused \(path) without an authentication challenge")
                }
                try await authenticate(challenge)
                continue
            }
            guard response.status == .ok else {
                let text = (try? await response.body.collect(upTo: 64 << 10)).map { String(buffer: $0) } ?? ""
                let code: CapstanError.Code =
                    switch response.status {
                    case .notFound: .notFound
                    case .unauthorized, .forbidden: .permissionDenied
                    case .tooManyRequests, .serviceUnavailable: .unavailable
                    default: .internal
                    }
                throw CapstanError(code, "registry \(reference.host) answered \(response.status.code) for \(reference.repository)\(path)\(text.isEmpty ? "" : ": " + text.prefix(300))")
            }
            return response
        }
        throw CapstanError(.permissionDenied, "registry \(reference.host) refused the credentials for \(reference.repository)")
    }

    func authenticate(_ challenge: AuthChallenge) async throws {
        switch challenge.scheme {
        case "basic":
            guard let credentials else {
                throw CapstanError(.permissionDenied, "registry \(reference.host) needs a user name and password (none found in --creds or the auth files)")
            }
            await authorization.set(credentials.basicHeader)
        case "bearer":
            guard let realm = challenge.parameters["realm"], var components = URLComponents(string: realm) else {
                throw CapstanError(.permissionDenied, "registry \(reference.host) sent a bearer challenge without a realm")
            }
            var query = components.queryItems ?? []
            if let service = challenge.parameters["service"] { query.append(URLQueryItem(name: "service", value: service)) }
            query.append(URLQueryItem(name: "scope", value: challenge.parameters["scope"] ?? "repository:\(reference.repository):pull"))
            components.queryItems = query
            guard let url = components.string else { throw CapstanError(.invalidArgument, "bad token realm \(realm)") }
            var request = HTTPClientRequest(url: url)
            if let credentials { request.headers.add(name: "Authorization", value: credentials.basicHeader) }
            let response: HTTPClientResponse
            do { response = try await http.execute(request, timeout: .seconds(60)) } catch {
                throw CapstanError(.unavailable, "cannot reach the token service \(realm) of \(reference.host)", cause: error)
            }
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else {
                throw CapstanError(.permissionDenied, "token service \(realm) answered \(response.status.code) for \(reference.repository)")
            }
            struct TokenResponse: Decodable { var token: String?; var access_token: String? }
            let token = try ImageJSON.decode(TokenResponse.self, from: Data(body.readableBytesView), what: "token from \(realm)")
            guard let value = token.token ?? token.access_token else {
                throw CapstanError(.permissionDenied, "token service \(realm) returned no token")
            }
            await authorization.set("Bearer \(value)")
            logger.debug("got registry token", metadata: ["host": "\(reference.host)"])
        default:
            throw CapstanError(.unsupported, "registry \(reference.host) asks for unsupported auth scheme '\(challenge.scheme)'")
        }
    }
}
