/// The one error type of Capstan's libraries: a closed code, a sentence for people, and an optional cause.
public struct CapstanError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A closed set of error categories; each maps to one HTTP status at the API edge.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Hashable, Sendable {
            case invalidArgument, notFound, alreadyExists, failedPrecondition, conflict
            case unavailable, timeout, permissionDenied, unauthenticated, unsupported, `internal`
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        public static let invalidArgument = Code(.invalidArgument)
        public static let notFound = Code(.notFound)
        public static let alreadyExists = Code(.alreadyExists)
        public static let failedPrecondition = Code(.failedPrecondition)
        public static let conflict = Code(.conflict)
        public static let unavailable = Code(.unavailable)
        public static let timeout = Code(.timeout)
        public static let permissionDenied = Code(.permissionDenied)
        /// No credentials, or wrong ones (HTTP 401); `permissionDenied` is for a known principal that may not act.
        public static let unauthenticated = Code(.unauthenticated)
        public static let unsupported = Code(.unsupported)
        public static let `internal` = Code(.internal)

        public var description: String { value.rawValue }

        /// The code of an HTTP error status a peer answered: the inverse of the server's table (CapstanHTTP's
        /// `APIError.status(for:)`) where a status has one code; other 4xx are `failedPrecondition`, other 5xx
        /// `internal`.
        public init(httpStatus: Int) {
            switch httpStatus {
            case 400: self = .invalidArgument
            case 401: self = .unauthenticated
            case 403: self = .permissionDenied
            case 404: self = .notFound
            case 409: self = .conflict
            case 501: self = .unsupported
            case 503: self = .unavailable
            case 504: self = .timeout
            case 400..<500: self = .failedPrecondition
            default: self = .internal
            }
        }
    }

    public let code: Code
    public let message: String
    /// What went wrong underneath, kept typed so a caller can inspect it (`error.cause as? POSIXError`).
    /// What went wrong underneath, as text. Kept as text on purpose: storing the typed `any Error` here made
    /// functions that `throws(CapstanError)` crash the master with SIGSEGV (Swift 6.3.1, an operator TEARDOWN
    /// in the GitOps end-to-end test); callers that need the typed cause catch it before wrapping.
    public let cause: String?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause.map { String(describing: $0) }
    }

    public var description: String {
        if let cause { return "\(message): \(cause)" }
        return message
    }

    /// Equal codes and messages, and causes that read the same.
    public static func == (lhs: CapstanError, rhs: CapstanError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message
            && lhs.cause == rhs.cause
    }
}
