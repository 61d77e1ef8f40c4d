import CapstanCore
import Crypto
import Foundation

/// GitHub's webhook signature: `X-Hub-Signature-256: sha256=<hex of HMAC-SHA256(secret, raw body)>`.
///
/// Verification compares in constant time (swift-crypto's `isValidAuthenticationCode`). A missing
/// header, another algorithm (`sha1=`), or a value that is not 64 hex digits is simply invalid.
public struct WebhookSignature: Sendable {
    /// The header GitHub (and Gitea, Forgejo) send the signature in.
    public static let headerName = "X-Hub-Signature-256"
    static let prefix = "sha256="

    private let secret: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: secret) }

    /// A secret as configured on the forge; it must not be empty.
    public init(secret: String) throws {
        guard !secret.isEmpty else { throw CapstanError(.invalidArgument, "the webhook secret is empty") }
        self.secret = Array(secret.utf8)
    }

    /// Reads the secret from a file, without its trailing newline.
    public init(secretFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CapstanError(.invalidArgument, "cannot read the webhook secret file \(path)")
        }
        let secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
        guard !secret.isEmpty else { throw CapstanError(.invalidArgument, "the webhook secret file \(path) is empty") }
        try self.init(secret: secret)
    }

    /// The header value a sender computes for `body`.
    public func header<Body: DataProtocol>(for body: Body) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: key)
        return Self.prefix + Hex.encode(code)
    }

    /// Whether `header` (the `X-Hub-Signature-256` value, nil when absent) signs exactly `body`.
    public func isValid<Body: DataProtocol>(body: Body, header: String?) -> Bool {
        guard let header, let code = Self.parse(header) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: body, using: key)
    }

    /// The check `ReconcilerRoutes` takes as `verifySignature`.
    public var check: ReconcilerRoutes.SignatureCheck {
        { [self] body, header in isValid(body: body, header: header) }
    }

    /// The 32 bytes of a `sha256=<64 hex digits>` value; nil when malformed.
    static func parse(_ header: String) -> [UInt8]? {
        let value = header.trimmingCharacters(in: .whitespaces)
        guard value.lowercased().hasPrefix(prefix) else { return nil }
        let hex = Array(value.utf8.dropFirst(prefix.utf8.count))
        guard hex.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = nibble(hex[index]), let low = nibble(hex[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
