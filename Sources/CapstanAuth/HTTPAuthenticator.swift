import CapstanCore
import Crypto
import Foundation

/// Authenticates frameworks and operators from the `Authorization` header: HTTP Basic against a credentials file
/// (as Mesos' `--credentials`), or a bearer token (``BearerToken``) when a JWT secret is configured.
public struct HTTPAuthenticator: Sendable {
    public let credentials: CredentialSet
    public let jwtSecret: [UInt8]?

    public init(credentials: CredentialSet, jwtSecret: [UInt8]? = nil) {
        self.credentials = credentials
        self.jwtSecret = jwtSecret
    }

    /// The authenticated principal; throws `unauthenticated` (HTTP 401) for missing or wrong credentials.
    public func principal(authorization: String?, now: Double = Date().timeIntervalSince1970) throws(CapstanError) -> String {
        guard let authorization, !authorization.isEmpty else {
            throw CapstanError(.unauthenticated, "authentication required: send HTTP Basic credentials or a bearer token")
        }
        let (scheme, value) = Self.split(authorization)
        switch scheme.lowercased() {
        case "basic":
            guard let decoded = Data(base64Encoded: String(value)), let text = String(data: decoded, encoding: .utf8),
                let colon = text.firstIndex(of: ":")
            else { throw CapstanError(.unauthenticated, "malformed HTTP Basic credentials") }
            let principal = String(text[..<colon])
            let secret = String(text[text.index(after: colon)...])
            guard let expected = credentials.secret(of: principal),
                constantTimeEquals(Array(SHA256.hash(data: Data(expected.utf8))), Array(SHA256.hash(data: Data(secret.utf8))))
            else { throw CapstanError(.unauthenticated, "wrong principal or secret") }
            return principal
        case "bearer":
            guard let jwtSecret else { throw CapstanError(.unauthenticated, "bearer tokens are not accepted here (no JWT secret configured)") }
            return try BearerToken.verify(String(value), secret: jwtSecret, now: now)
        default:
            throw CapstanError(.unauthenticated, "unsupported authorization scheme '\(IdentifierRule.printable(String(scheme.prefix(20))))'")
        }
    }

    /// The header value for HTTP Basic.
    public static func basic(principal: String, secret: String) -> String {
        "Basic " + Data("\(principal):\(secret)".utf8).base64EncodedString()
    }

    static func split(_ header: String) -> (Substring, Substring) {
        let trimmed = header.drop { $0 == " " }
        guard let space = trimmed.firstIndex(of: " ") else { return (trimmed, "") }
        return (trimmed[..<space], trimmed[trimmed.index(after: space)...].drop { $0 == " " })
    }
}
