import Foundation

/// A proto `bytes` field, carried in JSON as a base64 string (standard or URL-safe alphabet, padding optional
/// on input; standard with padding on output).
public struct Base64Bytes: Codable, Sendable, Hashable, CustomStringConvertible {
    public var data: Data

    public init(_ data: Data) {
        self.data = data
    }

    public init(_ bytes: [UInt8]) {
        self.data = Data(bytes)
    }

    /// Decodes base64 text; nil when it is not base64.
    public init?(base64 text: String) {
        var normalized = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        normalized = normalized.trimmingCharacters(in: .whitespacesAndNewlines)
        let remainder = normalized.count % 4
        if remainder == 1 { return nil }
        if remainder > 0 { normalized += String(repeating: "=", count: 4 - remainder) }
        guard let data = Data(base64Encoded: normalized) else { return nil }
        self.data = data
    }

    /// The standard base64 text of the bytes.
    public var base64: String { data.base64EncodedString() }

    public var description: String { base64 }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let bytes = Base64Bytes(base64: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not valid base64")
        }
        self = bytes
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(base64)
    }
}
