import CapstanAPI
import CapstanAPIClient
import CapstanCore
import Foundation

/// Calls the operator API (`POST /api/v1`) of a master or an agent.
public struct OperatorClient: Sendable {
    public let endpoint: HostPort
    let poster: JSONPoster

    /// `authorization`: an `Authorization` header sent with every call (for `--authenticate-http`).
    public init(_ endpoint: HostPort, authorization: String? = nil) {
        self.endpoint = endpoint
        self.poster = JSONPoster(authorization: authorization)
    }

    /// A master operator call.
    public func call(_ type: OperatorCall.Kind) async throws -> OperatorResponse {
        try await poster.call(OperatorCall(type: type), to: endpoint.url + "/api/v1", expecting: OperatorResponse.self)
    }

    /// An agent operator call.
    public func agentCall(_ type: AgentOperatorCall.Kind) async throws -> AgentOperatorResponse {
        try await poster.call(AgentOperatorCall(type: type), to: endpoint.url + "/api/v1", expecting: AgentOperatorResponse.self)
    }

    /// Raw POST of arbitrary bytes, for bad-input tests.
    public func raw(path: String, body: String, contentType: String = "application/json", headers: [(String, String)] = []) async throws -> JSONPoster.Reply {
        try await poster.postRaw(body, to: endpoint.url + path, contentType: contentType, headers: headers)
    }

    /// GET of a path, returning status and body.
    public func get(_ path: String) async throws -> JSONPoster.Reply {
        try await poster.get(endpoint.url + path)
    }
}
