import CapstanAPI
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
        do {
            return try MesosJSON.decode(T.self, from: Data(buffer: buffer), maximumDepth: maximumDepth)
        } catch {
            throw APIError(.badRequest, "Failed to parse body into \(String(describing: T.self)): \(error)")
        }
    }
}
