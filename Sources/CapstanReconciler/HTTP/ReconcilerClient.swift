import CapstanAPI
import CapstanAPIClient
import CapstanCore
import Foundation
import NIOCore

/// Reads a running reconciler's HTTP API (`capstan status`, `capstan history`), found directly by URL or through
/// the master: the reconciler is the framework named `ReconcilerModule.frameworkName`, and its FrameworkInfo's
/// `webui_url` is the base URL of its API.
public struct ReconcilerClient: Sendable {
    /// The API's base URL, without a trailing slash (`http://127.0.0.1:5052`).
    public let baseURL: String
    let poster: JSONPoster

    public init(baseURL: String, poster: JSONPoster = JSONPoster()) {
        self.baseURL = Self.normalise(baseURL)
        self.poster = poster
    }

    /// A poster whose requests (connecting included: refused connections are retried until then) give up after
    /// `timeout`.
    public static func poster(timeout: Duration, authorization: String? = nil) -> JSONPoster {
        let (seconds, attoseconds) = timeout.components
        return JSONPoster(timeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000), authorization: authorization)
    }

    /// The same, speaking HTTPS with `tls` when given.
    public static func poster(timeout: Duration, authorization: String?, tls: ClientTLS?) throws(CapstanError) -> JSONPoster {
        let (seconds, attoseconds) = timeout.components
        return try JSONPoster(
            tls: tls, timeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000), authorization: authorization)
    }

    /// Asks the master (operator `GET_FRAMEWORKS`) where the reconciler's API is.
    public static func discover(master: HostPort, poster: JSONPoster = JSONPoster()) async throws -> ReconcilerClient {
        let response: OperatorResponse
        do {
            response = try await poster.call(OperatorCall(type: .getFrameworks), to: master.url + "/api/v1", expecting: OperatorResponse.self)
        } catch let error as CapstanError where error.code == .unavailable {
            throw CapstanError(.unavailable, "Cannot reach the master at \(master)", cause: error)
        } catch {
            throw CapstanError(.failedPrecondition, "The master at \(master) did not answer GET_FRAMEWORKS", cause: error)
        }
        let frameworks = response.getFrameworks ?? OperatorResponse.GetFrameworks()
        do {
            return ReconcilerClient(baseURL: try reconcilerURL(in: frameworks, master: master), poster: poster)
        } catch let error as CapstanError where error.code == .notFound {
            // An agent answers GET_FRAMEWORKS too: say so rather than that no reconciler runs.
            if await MasterIdentity.isAgent(master, poster: poster) { throw CapstanError(.invalidArgument, MasterIdentity.agentMessage(master)) }
            throw error
        }
    }

    /// The reconciler's API URL among the master's frameworks: the connected framework named
    /// `capstan-reconciler` (the most recently (re)registered one if there are several), else a disconnected one
    /// (its API may still answer while it reconnects). Completed (torn down) frameworks are not considered.
    public static func reconcilerURL(in frameworks: OperatorResponse.GetFrameworks, master: HostPort) throws -> String {
        let named = frameworks.frameworks.filter { $0.frameworkInfo.name == ReconcilerModule.frameworkName }
        guard !named.isEmpty else {
            throw CapstanError(
                .notFound,
                "No framework named '\(ReconcilerModule.frameworkName)' is registered with the master at \(master); is `capstan reconcile` running? (or pass --reconciler URL)")
        }
        func registered(_ framework: OperatorResponse.GetFrameworks.Framework) -> Int64 {
            max(framework.registeredTime?.nanoseconds ?? 0, framework.reregisteredTime?.nanoseconds ?? 0)
        }
        let ordered = named.sorted { lhs, rhs in
            if lhs.connected != rhs.connected { return lhs.connected }
            return registered(lhs) > registered(rhs)
        }
        guard let url = ordered.lazy.compactMap(\.frameworkInfo.webuiURL).first(where: { !$0.isEmpty }) else {
            let id = ordered[0].frameworkInfo.id?.value ?? "?"
            throw CapstanError(
                .failedPrecondition,
                "The '\(ReconcilerModule.frameworkName)' framework \(id) on the master at \(master) has no webui_url; pass --reconciler URL")
        }
        return normalise(url)
    }

    /// `GET /api/v1/status`.
    public func status() async throws -> ReconcilerStatus {
        try await get("/api/v1/status", as: ReconcilerStatus.self)
    }

    /// `GET /api/v1/history/{app}?limit=N`.
    public func history(app: String, limit: Int = 100) async throws -> HistoryPage {
        let escaped = app.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? app
        return try await get("/api/v1/history/\(escaped)?limit=\(limit)", as: HistoryPage.self)
    }

    /// `POST /api/v1/sync`: asks the reconciler to fetch git now.
    public func sync() async throws {
        let url = baseURL + "/api/v1/sync"
        let reply: JSONPoster.Reply
        do {
            reply = try await poster.postRaw("{}", to: url)
        } catch let error as CapstanError {
            throw CapstanError(.unavailable, "Cannot reach the reconciler at \(baseURL)", cause: error)
        }
        guard reply.isSuccess else {
            let message = (try? ReconcilerJSON.decode(ReconcilerAPIErrorBody.self, from: reply.body).error) ?? reply.text
            throw CapstanError(reply.status == 404 ? .notFound : .failedPrecondition, "POST \(url) answered \(reply.status): \(message)")
        }
    }

    func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        let url = baseURL + path
        let reply: JSONPoster.Reply
        do {
            reply = try await poster.get(url)
        } catch let error as CapstanError {
            throw CapstanError(.unavailable, "Cannot reach the reconciler at \(baseURL)", cause: error)
        }
        guard reply.isSuccess else {
            let message = (try? ReconcilerJSON.decode(ReconcilerAPIErrorBody.self, from: reply.body).error) ?? reply.text
            throw CapstanError(reply.status == 404 ? .notFound : .failedPrecondition, "GET \(url) answered \(reply.status): \(message)")
        }
        do {
            return try ReconcilerJSON.decode(T.self, from: reply.body)
        } catch {
            throw CapstanError(.internal, "GET \(url) answered something that is not a \(T.self) document", cause: error)
        }
    }

    /// `host:port` and `http://host:port/` both become `http://host:port`.
    static func normalise(_ url: String) -> String {
        var text = url.trimmingCharacters(in: .whitespaces)
        if !text.contains("://") { text = "http://" + text }
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }
}
