/// Why a `--resources` or `--attributes` string could not be parsed, and where.
public struct ResourceParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The whole text being parsed.
    public var text: String
    /// The 0-based character offset of the problem.
    public var position: Int
    /// What was expected or wrong, such as `expected a number`.
    public var reason: String
    /// What was being parsed: `resources` or `attributes`.
    public var subject: String

    /// Creates an error for `text` at 0-based character `position`.
    public init(text: String, position: Int, reason: String, subject: String = "resources") {
        self.text = text
        self.position = position
        self.reason = reason
        self.subject = subject
    }

    /// `invalid resources 'cpus:x' at column 6: expected a number` (columns count from 1).
    public var description: String {
        "invalid \(subject) '\(text)' at column \(position + 1): \(reason)"
    }
}
