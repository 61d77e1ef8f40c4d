/// A git commit's object name (40 lowercase hex digits; tests and saved states may carry a shorter one).
public struct CommitID: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let hex: String
    public init(hex: String) { self.hex = hex.lowercased() }
    public init(stringLiteral value: String) { self.init(hex: value) }
    public var description: String { hex }
    /// The first 12 hex digits, for people and the `capstan.commit` task label.
    public var short: String { String(hex.prefix(12)) }
    public static func < (lhs: CommitID, rhs: CommitID) -> Bool { lhs.hex < rhs.hex }

    /// Whether `text` is a full 40-digit object name.
    public static func isFullHex(_ text: String) -> Bool {
        text.count == 40 && text.allSatisfy { $0.isHexDigit }
    }
}
