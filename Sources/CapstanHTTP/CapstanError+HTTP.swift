import CapstanCore
import Hummingbird

/// Runs a handler body, turning Capstan errors into HTTP answers with the matching status.
public func answering<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as CapstanError {
        throw APIError(error)
    }
}

extension Request {
    /// Refuses clients that only accept protobuf: Capstan speaks JSON.
    public func requireJSONAccepted() throws {
        if let accept = headers[.accept]?.lowercased(), !accept.isEmpty,
            !(accept.contains("json") || accept.contains("*/*") || accept.contains("recordio"))
        {
            throw APIError(.notAcceptable, "Unsupported Accept '\(accept)'; this server answers 'application/json'")
        }
    }
}
