import CapstanCore
import Crypto
import Foundation

/// How master and agents authenticate to each other: every internal request carries
/// `Authorization: Capstan-HMAC <principal> <unix-seconds> <hex HMAC-SHA256>` over the method, the path with its
/// query, the time and the SHA-256 of the body, keyed with the principal's secret. The secret never travels; a
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
        let mac = code(secret: secret, method: method, path: path, timestamp: timestamp, body: body)
        return "\(scheme) \(principal) \(timestamp) \(mac.hex)"
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
        guard parts.count == 4, parts[0] == scheme, let timestamp = Int64(parts[2]), let given = [UInt8](hex: parts[3]) else {
            throw CapstanError(.unauthenticated, "malformed '\(scheme)' Authorization header")
        }
        let principal = String(parts[1])
        guard let secret = credentials.secret(of: principal) else {
            throw CapstanError(.unauthenticated, "unknown principal '\(IdentifierRule.printable(principal))'")
        }
        guard abs(Double(timestamp) - now) <= maxSkew else {
            throw CapstanError(.unauthenticated, "signature time is more than \(Int(maxSkew)) s away from this clock (check NTP)")
        }
        let expected = code(secret: secret, method: method, path: path, timestamp: timestamp, body: body)
        guard constantTimeEquals(Array(expected), given) else {
            throw CapstanError(.unauthenticated, "signature of principal '\(principal)' does not match the request")
        }
        return principal
    }

    static func code(secret: String, method: String, path: String, timestamp: Int64, body: some DataProtocol) -> HashedAuthenticationCode<SHA256> {
        let bodyHash = SHA256.hash(data: body).hex
        let message = "capstan-v1\n\(method.uppercased())\n\(path)\n\(timestamp)\n\(bodyHash)"
        return HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(secret.utf8)))
    }
}

extension Sequence where Element == UInt8 {
    var hex: String {
        var out = ""
        for byte in self {
            out.append(Character(Unicode.Scalar(UInt8(ascii: "0") + (byte >> 4) + (byte >> 4 > 9 ? 39 : 0))))
            out.append(Character(Unicode.Scalar(UInt8(ascii: "0") + (byte & 15) + (byte & 15 > 9 ? 39 : 0))))
        }
        return out
    }
}

extension Array where Element == UInt8 {
    init?(hex: Substring) {
        guard hex.utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8? = nil
        for c in hex.utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let h = high { bytes.append(h << 4 | v); high = nil } else { high = v }
        }
        self = bytes
    }
}
