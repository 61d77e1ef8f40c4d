import CapstanAPIClient
import CapstanCore
import Foundation

/// The body of `POST /api/v1/apps/{app}/rollback`.
public struct RollbackRequest: Codable, Sendable, Equatable {
    /// A commit (or branch, tag) where the app converged; nil for the previous converged commit.
    public var revision: String?
    /// Lift the pin instead.
    public var clear: Bool

    public init(revision: String? = nil, clear: Bool = false) {
        self.revision = revision
        self.clear = clear
    }

    /// Both fields may be absent.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(revision: try c.decodeIfPresent(String.self, forKey: .revision), clear: try c.decodeIfPresent(Bool.self, forKey: .clear) ?? false)
    }
}

extension ReconcilerClient {
    /// `POST /api/v1/apps/{app}/suspend` (or `/resume`).
    public func setSuspended(app: String, _ suspended: Bool) async throws -> AppControlReply {
        try await post("/api/v1/apps/\(Self.escape(app))/\(suspended ? "suspend" : "resume")", body: "{}")
    }

    /// `POST /api/v1/apps/{app}/rollback`.
    public func rollback(app: String, _ request: RollbackRequest) async throws -> AppControlReply {
        let body = String(decoding: try ReconcilerJSON.encode(request), as: UTF8.self)
        return try await post("/api/v1/apps/\(Self.escape(app))/rollback", body: body)
    }

    /// `GET /api/v1/controls`: what `capstan diff` needs to plan as the reconciler does.
    public func controls() async throws -> ReconcilerControls {
        try await get("/api/v1/controls", as: ReconcilerControls.self)
    }

    static func escape(_ app: String) -> String {
        app.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? app
    }

    private func post<T: Decodable>(_ path: String, body: String) async throws -> T {
        let url = baseURL + path
        let reply: JSONPoster.Reply
        do {
            reply = try await poster.postRaw(body, to: url)
        } catch is CapstanError {
            // The HTTP client's text is a library's; ask the address itself why it does not answer.
            let address = baseURL.split(separator: "/").dropFirst().first.map(String.init) ?? baseURL
            throw CapstanError(.unavailable, "cannot reach the reconciler at \(baseURL): \(await ConnectionProbe.reason(address, timeout: 1_000))")
        }
        guard reply.isSuccess else {
            let message = (try? ReconcilerJSON.decode(ReconcilerAPIErrorBody.self, from: reply.body).error) ?? reply.text
            throw CapstanError(reply.status == 404 ? .notFound : .failedPrecondition, message)
        }
        do {
            return try ReconcilerJSON.decode(T.self, from: reply.body)
        } catch {
            throw CapstanError(.internal, "POST \(url) answered something that is not a \(T.self) document", cause: error)
        }
    }
}
