import CapstanAPI
import CapstanAuth
import CapstanCore
import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat

extension Response {
    /// A JSON response encoded with the Mesos JSON rules (snake_case keys, enums as strings).
    public static func mesosJSON(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try MesosJSON.encode(value)
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// An empty `202 Accepted`, the answer to scheduler and executor calls.
    public static var accepted: Response { Response(status: .accepted) }
}

extension Request {
    /// The largest request body a Mesos call may have.
    public static let maximumMesosBodyBytes = 16 << 20

    /// Reads the whole body (up to `limit` bytes: a longer one is a 413) and decodes it as a Mesos JSON message;
    /// a decode failure is a 400 whose text names the field path, or the nesting depth and its limit.
    public func decodeMesos<T: Decodable>(
        _ type: T.Type, limit: Int = Request.maximumMesosBodyBytes, maximumDepth: Int = JSONNesting.defaultMaximumDepth
    ) async throws -> T {
        try Self.decodeMesosBody(T.self, from: try await collectJSONBody(limit: limit), maximumDepth: maximumDepth)
    }

    /// Reads the body of an internal master/agent call, checks its ``RequestSignature`` against `credentials` and
    /// decodes it. Returns the signing principal, or nil when `credentials` is nil (authentication turned off).
    /// A missing or wrong signature is a 401 and nothing is decoded or done.
    public func decodeSignedMesos<T: Decodable>(
        _ type: T.Type, credentials: CredentialSet?, limit: Int = Request.maximumMesosBodyBytes
    ) async throws -> (message: T, principal: String?) {
        let body = try await collectJSONBody(limit: limit)
        guard let credentials else { return (try Self.decodeMesosBody(T.self, from: body), nil) }
        let principal = try await answering {
            try RequestSignature.verify(
                authorization: headers[.authorization], method: head.method.rawValue, path: uri.path, body: body,
                credentials: credentials)
        }
        return (try Self.decodeMesosBody(T.self, from: body), principal)
    }

    private func collectJSONBody(limit: Int) async throws -> Data {
        var body = self.body
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            let size = limit % (1 << 20) == 0 ? "\(limit >> 20) MiB (\(limit) bytes)" : "\(limit) bytes"
            throw APIError(.contentTooLarge, "Request body is larger than the limit of \(size)")
        }
        if let type = headers[.contentType], !type.lowercased().hasPrefix("application/json") {
            throw APIError(.unsupportedMediaType, "Unsupported Content-Type '\(type)'; expecting 'application/json'")
        }
        return Data(buffer: buffer)
    }

    private static func decodeMesosBody<T: Decodable>(
        _ type: T.Type, from data: Data, maximumDepth: Int = JSONNesting.defaultMaximumDepth
    ) throws -> T {
        do {
            return try MesosJSON.decode(T.self, from: data, maximumDepth: maximumDepth)
        } catch {
            throw APIError(.badRequest, "Failed to parse body into \(String(describing: T.self)): \(error)")
        }
    }
}
