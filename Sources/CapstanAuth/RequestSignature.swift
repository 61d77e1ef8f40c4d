import CapstanCore
import Crypto
import Foundation

/// How master and agents authenticate to each other: every internal request carries
/// `Authorization: Capstan-HMAC <principal> <unix-seconds> <hex HMAC-SHA256>` over the method, the path, the
/// time and the SHA-256 of the body, keyed with the principal's secret. The secret never travels; a
/// signature is valid for `maxSkew` around its time, and only for that exact request.
public enum RequestSignature {
    public static let scheme = "Capstan-HMAC"
    /// How far a signature's time may be from the verifier's clock.
    public static let maxSkew: Double = 300

    /// The `Authorization` header value for a request.
    public static func authorization(
        principal: String, secret: String, method: String, path: String, body: some DataProtocol, now: Double = Date().timeIntervalSince1970
    ) -> String {
        let timestamp = Int64(now.rounded(.down))
        let mac = HMAC<SHA256>.authenticationCode(
            for: message(method: method, path: path, timestamp: timestamp, body: body), using: SymmetricKey(data: Data(secret.utf8)))
        return "\(scheme) \(principal) \(timestamp) \(Hex.encode(mac))"
    }

    /// Checks a request's `Authorization` header against `credentials`; returns the principal, or throws
    /// `unauthenticated` saying what was wrong (never revealing a secret).
    public static func verify(
        authorization: String?, method: String, path: String, body: some DataProtocol, credentials: CredentialSet,
        now: Double = Date().timeIntervalSince1970
    ) throws(CapstanError) -> String {
        guard let authorization, !authorization.isEmpty else {
            throw CapstanError(.unauthenticated, "this endpoint needs a '\(scheme)' Authorization header signed with an agent credential")
        }
        let parts = authorization.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 4, parts[0] == scheme, let timestamp = Int64(parts[2]), let given = Hex.decode(parts[3]) else {
            throw CapstanError(.unauthenticated, "malformed '\(scheme)' Authorization header")
        }
        let principal = String(parts[1])
        guard let secret = credentials.secret(of: principal) else {
            throw CapstanError(.unauthenticated, "unknown principal '\(IdentifierRule.printable(principal))'")
        }
        guard abs(Double(timestamp) - now) <= maxSkew else {
            throw CapstanError(.unauthenticated, "signature time is more than \(Int(maxSkew)) s away from this clock (check NTP)")
        }
        guard HMAC<SHA256>.isValidAuthenticationCode(
            given, authenticating: message(method: method, path: path, timestamp: timestamp, body: body),
            using: SymmetricKey(data: Data(secret.utf8)))
        else {
            throw CapstanError(.unauthenticated, "signature of principal '\(principal)' does not match the request")
        }
        return principal
    }

    /// What is signed: method, path, time and the body's SHA-256.
    static func message(method: String, path: String, timestamp: Int64, body: some DataProtocol) -> Data {
        Data("capstan-v1\n\(method.uppercased())\n\(path)\n\(timestamp)\n\(Hex.encode(SHA256.hash(data: body)))".utf8)
    }
}
