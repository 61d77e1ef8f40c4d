/// A content digest such as `sha256:e3b0c4…`: an algorithm and a lowercase hex encoding, validated on creation.
///
/// Only `sha256` (64 hex digits) and `sha512` (128 hex digits) are accepted, as in the OCI image spec.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// The algorithm, `sha256` or `sha512`.
    public let algorithm: String
    /// The lowercase hex encoding.
    public let encoded: String

    /// Parses `algorithm:hex`; throws `invalidArgument` naming the text when it is not a valid digest.
    public init(parsing text: String) throws(CapstanError) {
        guard let colon = text.firstIndex(of: ":") else {
            throw CapstanError(.invalidArgument, "'\(text)' is not a digest (expected sha256:<64 hex digits>)")
        }
        let algorithm = String(text[..<colon])
        let encoded = String(text[text.index(after: colon)...])
        try self.init(algorithm: algorithm, encoded: encoded)
    }

    /// Creates a digest from its parts; throws `invalidArgument` when the hex does not fit the algorithm.
    public init(algorithm: String, encoded: String) throws(CapstanError) {
        let length: Int
        switch algorithm {
        case "sha256": length = 64
        case "sha512": length = 128
        default: throw CapstanError(.invalidArgument, "digest algorithm '\(algorithm)' is not supported (expected sha256 or sha512)")
        }
        guard encoded.utf8.count == length, encoded.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
            throw CapstanError(.invalidArgument, "'\(algorithm):\(encoded)' is not a digest (expected \(length) lowercase hex digits)")
        }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// `sha256:<hex>`.
    public var description: String { "\(algorithm):\(encoded)" }
    /// The first 12 hex digits, as `docker images` shows them.
    public var short: String { String(encoded.prefix(12)) }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }

    /// Encodes as the plain string `sha256:<hex>`, as OCI JSON does.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }
}
