import CapstanCore

/// The name of a Docker plugin (a volume `driver`), checked before it is joined into a discovery path: 1 to 128
/// bytes of letters, digits, `.`, `_` and `-`, starting with a letter or digit — so never `/`, `..` or NUL.
public struct DockerPluginName: CheckedName {
    /// The longest name accepted.
    public static let maxLength = 128

    public let value: String
    public var description: String { value }

    /// Checks `value`; throws `invalidArgument` saying what is wrong with it.
    public init(_ value: String) throws(CapstanError) {
        if let problem = Self.problem(with: value) {
            throw CapstanError(.invalidArgument, "Docker volume driver '\(IdentifierRule.printable(value))' \(problem)")
        }
        self.value = value
    }

    /// Why `value` cannot be a plugin name, or nil when it can.
    public static func problem(with value: String) -> String? {
        let bytes = Array(value.utf8)
        guard let first = bytes.first else { return "must not be empty" }
        if bytes.count > maxLength { return "is \(bytes.count) bytes long; at most \(maxLength) are allowed" }
        if bytes.contains(0) { return "contains a NUL byte" }
        if bytes.contains(UInt8(ascii: "/")) { return "contains '/'; a plugin name is a single file name" }
        if value.contains("..") { return "contains '..'" }
        guard isAlphanumeric(first) else { return "must start with a letter or digit" }
        if bytes.contains(where: { !isAlphanumeric($0) && $0 != UInt8(ascii: ".") && $0 != UInt8(ascii: "_") && $0 != UInt8(ascii: "-") }) {
            return "may contain only letters, digits and . _ -"
        }
        return nil
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: false
        }
    }
}

/// The name of a volume as its driver knows it: 1 to 255 bytes with no NUL and no control characters. The name goes
/// to the plugin in JSON and into the mount journal's file names percent-encoded, never raw into a path, so a plugin
/// that accepts names such as `pool/image` keeps them.
public struct DockerVolumeName: CheckedName {
    public static let maxLength = 255

    public let value: String
    public var description: String { value }

    public init(_ value: String) throws(CapstanError) {
        let bytes = Array(value.utf8)
        let problem: String? =
            if bytes.isEmpty { "must not be empty" } else if bytes.count > Self.maxLength {
                "is \(bytes.count) bytes long; at most \(Self.maxLength) are allowed"
            } else if bytes.contains(where: { $0 < 0x20 || $0 == 0x7f }) { "contains a control character" } else { nil }
        if let problem { throw CapstanError(.invalidArgument, "Docker volume name '\(IdentifierRule.printable(value))' \(problem)") }
        self.value = value
    }

}

/// A name checked when it is made: decoded through its checking initializer (so a journal cannot smuggle in a name the
/// initializer refuses), encoded as its text, ordered by it.
public protocol CheckedName: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    var value: String { get }
    init(_ value: String) throws(CapstanError)
}

extension CheckedName {
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
