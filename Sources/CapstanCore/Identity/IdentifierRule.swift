/// The one rule for identifiers that end up in file system paths (framework, executor, task, agent, container,
/// volume, network and app IDs): 1 to 200 characters from a safe set, never `.` or `..`.
///
/// Every ID that reaches a path is checked with this rule where it enters the process (the HTTP edge), and
/// every path built from IDs is built with ``SafePath`` so that it cannot leave its root.
public enum IdentifierRule {
    /// The longest identifier accepted; a path component may be 255 bytes, and IDs are joined with suffixes.
    public static let maxLength = 200

    /// Letters, digits and `.`, `_`, `-`, `:`, `@`, `+`, `=`, `~`, `,`.
    public static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "@"),
            UInt8(ascii: "+"), UInt8(ascii: "="), UInt8(ascii: "~"), UInt8(ascii: ","):
            true
        default: false
        }
    }

    /// Why `value` is not a valid identifier, or nil when it is.
    public static func problem(with value: String) -> String? {
        let bytes = Array(value.utf8)
        if bytes.isEmpty { return "must not be empty" }
        if bytes.count > maxLength { return "is \(bytes.count) bytes long; at most \(maxLength) are allowed" }
        if value == "." || value == ".." { return "must not be '.' or '..'" }
        if let bad = bytes.first(where: { !isAllowed($0) }) {
            let shown = (0x21..<0x7f).contains(bad) ? "'\(Character(Unicode.Scalar(bad)))'" : "byte 0x" + Hex.encode([bad]).uppercased()
            return "contains \(shown); only letters, digits and . _ - : @ + = ~ , are allowed"
        }
        return nil
    }

    /// Throws `invalidArgument` naming the field (a JSON field path such as `subscribe.framework_info.id`).
    public static func check(_ value: String, field: String) throws(CapstanError) {
        if let problem = problem(with: value) {
            throw CapstanError(.invalidArgument, "'\(field)' \(problem) (got '\(printable(value))')")
        }
    }

    /// The value with control characters escaped and cut to 80 characters, safe to put in an error message.
    public static func printable(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars.prefix(80) {
            out += scalar.value < 0x20 || scalar.value == 0x7f ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }
        return value.unicodeScalars.count > 80 ? out + "…" : out
    }
}

extension StringIdentifier {
    /// Checks this ID against ``IdentifierRule``; `field` names where it came from.
    public func checkPathSafe(field: String) throws(CapstanError) {
        try IdentifierRule.check(value, field: field)
    }

    /// Whether this ID obeys ``IdentifierRule``.
    public var isPathSafe: Bool { IdentifierRule.problem(with: value) == nil }
}

/// Paths built from identifiers under a root: each component must obey ``IdentifierRule`` (or be one of the fixed
/// literal names the caller passes as `.literal`), so the result always stays beneath `root`.
public struct SafePath: Sendable, Hashable, CustomStringConvertible {
    /// One component of a path.
    public enum Component: Sendable, Hashable, ExpressibleByStringLiteral {
        /// A name written in the code (`frameworks`, `runs`); checked too, never `.`/`..`, never `/`.
        case literal(String)
        /// A value that came from outside, checked with ``IdentifierRule``.
        case id(String)

        public init(stringLiteral value: String) { self = .literal(value) }
    }

    public let root: String
    public let path: String
    public var description: String { path }

    /// Joins `components` under `root`; throws `invalidArgument` when any component could leave it.
    public init(root: String, _ components: [Component]) throws(CapstanError) {
        var path = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        for component in components {
            switch component {
            case .literal(let name):
                guard !name.isEmpty, name != ".", name != "..", !name.contains("/"), !name.utf8.contains(0) else {
                    throw CapstanError(.invalidArgument, "path component '\(IdentifierRule.printable(name))' under \(root) is not allowed")
                }
                path += "/" + name
            case .id(let value):
                if let problem = IdentifierRule.problem(with: value) {
                    throw CapstanError(
                        .invalidArgument, "identifier '\(IdentifierRule.printable(value))' cannot be used in a path under \(root): it \(problem)")
                }
                path += "/" + value
            }
        }
        self.root = root
        self.path = path
    }
}
