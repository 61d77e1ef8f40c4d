import CapstanCore
import Crypto
import Foundation

/// Bearer tokens: JSON Web Tokens signed with HMAC-SHA256 (`alg: HS256`) under the master's `--jwt-secret-file`,
/// whose `sub` claim is the principal and whose `exp` claim (seconds since the epoch) is required.
public enum BearerToken {
    /// Makes a token for `principal` valid for `lifetime` seconds (the `capstan token` command, and tests).
    public static func mint(principal: String, secret: [UInt8], lifetime: Double, now: Double = Date().timeIntervalSince1970) -> String {
        let header = base64URL(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let claims: [String: Any] = ["sub": principal, "iat": Int64(now), "exp": Int64(now + lifetime)]
        let payload = base64URL((try? JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])) ?? Data())
        let signed = header + "." + payload
        let mac = HMAC<SHA256>.authenticationCode(for: Data(signed.utf8), using: SymmetricKey(data: secret))
        return signed + "." + base64URL(Data(mac))
    }

    /// The principal of a valid token; throws `unauthenticated` saying why a token is refused.
    public static func verify(_ token: String, secret: [UInt8], now: Double = Date().timeIntervalSince1970) throws(CapstanError) -> String {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= 8192, parts.count == 3,
            let headerData = decodeBase64URL(parts[0]), let payloadData = decodeBase64URL(parts[1]),
            let signature = decodeBase64URL(parts[2])
        else { throw CapstanError(.unauthenticated, "bearer token is not a JSON Web Token") }
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any], header["alg"] as? String == "HS256" else {
            throw CapstanError(.unauthenticated, "bearer token must be signed with HS256")
        }
        let signed = Data((parts[0] + "." + parts[1]).utf8)
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: SymmetricKey(data: secret)) else {
            throw CapstanError(.unauthenticated, "bearer token signature is invalid")
        }
        guard let claims = try? JSONSerialization.jsonObject(with: payloadData) as? [String: Any],
            let subject = claims["sub"] as? String, CredentialSet.principalProblem(subject) == nil
        else { throw CapstanError(.unauthenticated, "bearer token has no valid 'sub' claim") }
        guard let expiry = (claims["exp"] as? NSNumber)?.doubleValue else {
            throw CapstanError(.unauthenticated, "bearer token has no 'exp' claim")
        }
        guard expiry > now else { throw CapstanError(.unauthenticated, "bearer token expired") }
        if let notBefore = (claims["nbf"] as? NSNumber)?.doubleValue, notBefore > now + 60 {
            throw CapstanError(.unauthenticated, "bearer token is not valid yet")
        }
        return subject
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64URL(_ text: Substring) -> Data? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s)
    }
}
