import CapstanCore
import Foundation
import Hummingbird

/// An error answered to an HTTP client: a status and one sentence, as plain text (Mesos answers errors as text).
public struct APIError: HTTPResponseError, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let message: String
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    /// Maps a Capstan error code to the HTTP status clients expect.
    public init(_ error: CapstanError) {
        self.init(Self.status(for: error.code), error.description)
        if error.code == .unauthenticated { headers[.wwwAuthenticate] = #"Basic realm="capstan", Bearer realm="capstan""# }
    }

    /// The one table from error codes to HTTP statuses.
    public static func status(for code: CapstanError.Code) -> HTTPResponse.Status {
        switch code {
        case .invalidArgument: .badRequest
        case .notFound: .notFound
        case .alreadyExists, .conflict: .conflict
        case .failedPrecondition: .badRequest
        case .permissionDenied: .forbidden
        case .unauthenticated: .unauthorized
        case .unavailable: .serviceUnavailable
        case .timeout: .gatewayTimeout
        case .unsupported: .notImplemented
        default: .internalServerError
        }
    }

    public var description: String { "\(status.code) \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: message)))
    }
}
