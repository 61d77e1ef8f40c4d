import CapstanCore
import Yams

/// Reads YAML nodes into Swift values for one file, collecting a diagnostic (with the node's
/// `file:line:column`) for each problem instead of stopping at the first. Every reader returns nil
/// after reporting, so callers just skip what did not decode.
final class NodeReader {
    let file: String
    private(set) var diagnostics: [ManifestDiagnostic] = []

    init(file: String) { self.file = file }

    func location(_ mark: YAMLMark?) -> SourceLocation {
        SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    func report(_ mark: YAMLMark?, _ path: String, _ message: String) {
        diagnostics.append(ManifestDiagnostic(location(mark), path: path, message))
    }

    func report(_ node: YAMLNode, _ path: String, _ message: String) { report(node.mark, path, message) }

    /// A problem of the file as a whole at a 1-based position.
    func report(line: Int, column: Int, _ message: String) {
        diagnostics.append(ManifestDiagnostic(SourceLocation(file: file, line: line, column: column), path: "", message))
    }

    /// The resolved YAML type of a node: its explicit tag, else for a plain scalar the type ``PlainScalarTag``
    /// reads from its text (as Yams' `Resolver.default` would), `map` for a mapping and `seq` for a list.
    func tag(_ node: YAMLNode) -> Tag.Name {
        switch node {
        case .scalar(let scalar):
            guard let explicit = scalar.tag, !explicit.isEmpty else { return PlainScalarTag.resolve(scalar.string) }
            return Tag.Name(rawValue: explicit)
        case .mapping(let mapping): return mapping.tag.map(Tag.Name.init(rawValue:)) ?? .map
        case .sequence(let list): return list.tag.map(Tag.Name.init(rawValue:)) ?? .seq
        }
    }

    /// "a string", "an integer", … for messages.
    func describe(_ node: YAMLNode) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar:
            switch tag(node) {
            case .null: return "null"
            case .bool: return "a boolean"
            case .int: return "an integer"
            case .float: return "a number"
            default: return "a string"
            }
        }
    }

    func typeError(_ node: YAMLNode, _ path: @autoclosure () -> String, expected: String) {
        var message = "expected \(expected), got \(describe(node))"
        if case .scalar(let scalar) = node, expected.contains("string"), tag(node) != .null {
            message += " (quote it: '\(scalar.string)')"
        }
        report(node, path(), message)
    }

    // MARK: Mappings

    /// The known fields of a mapping. Reports a non-mapping, non-string or duplicate keys, and keys
    /// not in `allowed` (at the key's position).
    func fields(_ node: YAMLNode, _ path: @autoclosure () -> String, _ allowed: [String]) -> Fields? {
        guard case .mapping(let mapping) = node else {
            typeError(node, path(), expected: "a mapping")
            return nil
        }
        var fields = Fields(node: node, path: path())
        for (keyNode, value) in mapping {
            guard case .scalar(let key) = keyNode else {
                report(keyNode, path(), "keys must be strings, got \(describe(keyNode))")
                continue
            }
            if fields.values[key.string] != nil {
                report(keyNode, Fields.join(fields.path, key.string), "duplicate field '\(key.string)'")
            } else if !allowed.contains(key.string) {
                report(keyNode, Fields.join(fields.path, key.string), "unknown field '\(key.string)' (expected one of: \(allowed.joined(separator: ", ")))")
            } else {
                fields.values[key.string] = value
                fields.keys[key.string] = keyNode
            }
        }
        return fields
    }

    /// A mapping of strings to strings (env, labels); numbers and booleans are taken as their text when `lenient`.
    func stringMap(_ node: YAMLNode, _ path: @autoclosure () -> String, lenient: Bool) -> [String: String]? {
        guard case .mapping(let mapping) = node else {
            typeError(node, path(), expected: "a mapping of strings")
            return nil
        }
        var result: [String: String] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let key) = keyNode else {
                report(keyNode, path(), "keys must be strings, got \(describe(keyNode))")
                continue
            }
            func keyPath() -> String { Fields.join(path(), key.string) }
            if result[key.string] != nil {
                report(keyNode, keyPath(), "duplicate key '\(key.string)'")
                continue
            }
            if lenient, case .scalar(let scalar) = value, tag(value) != .null {
                result[key.string] = scalar.string
            } else if let string = string(value, keyPath()) {
                result[key.string] = string
            }
        }
        return result
    }

    // MARK: Scalars

    /// The node's value as YAML reads a number: plain decimal text (the common case) straight through `Double`,
    /// anything else (`_` separators, `1:30`, `.inf`) through Yams, which would answer the same for plain text.
    static func float(_ node: YAMLNode) -> Double? {
        guard case .scalar(let scalar) = node, scalar.isPlain else { return nil }
        if isPlainDecimal(scalar.string, fraction: true) { return Double(scalar.string) }
        return Double.construct(from: Node.Scalar(scalar.string))
    }

    /// The node's value as YAML reads an integer: sign and decimal digits (no leading 0, which means octal) straight
    /// through `Int`, anything else through Yams.
    static func int(_ node: YAMLNode) -> Int? {
        guard case .scalar(let scalar) = node, scalar.isPlain else { return nil }
        if isPlainDecimal(scalar.string, fraction: false) { return Int(scalar.string) }
        return Int.construct(from: Node.Scalar(scalar.string))
    }

    /// Only ASCII digits after an optional sign (and, with `fraction`, `.`, `e`, `E` and signs), without a leading 0
    /// before another digit.
    private static func isPlainDecimal(_ text: String, fraction: Bool) -> Bool {
        var utf8 = text.utf8[...]
        if let first = utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") { utf8 = utf8.dropFirst() }
        guard let first = utf8.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { return false }
        if first == UInt8(ascii: "0"), let second = utf8.dropFirst().first, second >= UInt8(ascii: "0"), second <= UInt8(ascii: "9") {
            return false
        }
        return utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || (fraction && (byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")))
        }
    }

    func string(_ node: YAMLNode, _ path: @autoclosure () -> String, nonEmpty: Bool = false) -> String? {
        guard case .scalar(let scalar) = node, tag(node) == .str else {
            typeError(node, path(), expected: "a string")
            return nil
        }
        if nonEmpty && scalar.string.isEmpty {
            report(node, path(), "must not be empty")
            return nil
        }
        return scalar.string
    }

    func int(_ node: YAMLNode, _ path: @autoclosure () -> String, min: Int = 0, max: Int = Int.max) -> Int? {
        guard tag(node) == .int, let value = NodeReader.int(node) else {
            typeError(node, path(), expected: "an integer")
            return nil
        }
        guard value >= min, value <= max else {
            report(node, path(), max == Int.max ? "must be at least \(min), got \(value)" : "must be between \(min) and \(max), got \(value)")
            return nil
        }
        return value
    }

    func number(_ node: YAMLNode, _ path: @autoclosure () -> String, min: Double = 0) -> Double? {
        let t = tag(node)
        guard t == .int || t == .float, let value = NodeReader.float(node), value.isFinite else {
            typeError(node, path(), expected: "a number")
            return nil
        }
        guard value >= min else {
            report(node, path(), "must be at least \(CanonicalValue.formatNumber(min)), got \(CanonicalValue.formatNumber(value))")
            return nil
        }
        return value
    }

    func bool(_ node: YAMLNode, _ path: @autoclosure () -> String) -> Bool? {
        guard tag(node) == .bool, case .scalar(let scalar) = node, let value = Bool.construct(from: Node.Scalar(scalar.string)) else {
            typeError(node, path(), expected: "a boolean")
            return nil
        }
        return value
    }

    /// A number of seconds, or a string such as `5s`, `500ms`, `1m`.
    func duration(_ node: YAMLNode, _ path: @autoclosure () -> String) -> Duration? {
        guard case .scalar(let scalar) = node else {
            typeError(node, path(), expected: "a duration such as 5s")
            return nil
        }
        switch tag(node) {
        case .int, .float:
            guard let seconds = NodeReader.float(node), let duration = Duration.exactly(seconds: seconds) else {
                report(node, path(), "'\(scalar.string)' is not a duration (use e.g. 500ms, 5s, 1m, 2h; at most 292 years)")
                return nil
            }
            return duration
        case .str:
            do {
                return try ManifestValue.duration(scalar.string)
            } catch {
                report(node, path(), error.message)
                return nil
            }
        default:
            typeError(node, path(), expected: "a duration such as 5s")
            return nil
        }
    }

    /// A size in MiB: a plain number (MiB) or a string such as `128Mi`, `1Gi`, `512M`.
    func size(_ node: YAMLNode, _ path: @autoclosure () -> String) -> Double? {
        guard case .scalar(let scalar) = node else {
            typeError(node, path(), expected: "a size such as 128Mi")
            return nil
        }
        switch tag(node) {
        case .int, .float:
            guard let value = NodeReader.float(node), value >= 0, value.isFinite else {
                report(node, path(), "'\(scalar.string)' is not a size (use e.g. 128Mi, 1Gi)")
                return nil
            }
            return value
        case .str:
            do {
                return try ManifestValue.sizeMiB(scalar.string)
            } catch {
                report(node, path(), error.message)
                return nil
            }
        default:
            typeError(node, path(), expected: "a size such as 128Mi")
            return nil
        }
    }

    /// A count (`2`) or a percentage (`50%`).
    func amount(_ node: YAMLNode, _ path: @autoclosure () -> String) -> InstanceAmount? {
        guard case .scalar(let scalar) = node, tag(node) == .int || tag(node) == .str else {
            typeError(node, path(), expected: "a count or a percentage such as 50%")
            return nil
        }
        do {
            return try ManifestValue.amount(scalar.string)
        } catch {
            report(node, path(), error.message)
            return nil
        }
    }

    /// A list of strings; each bad item is reported.
    func stringList(_ node: YAMLNode, _ path: @autoclosure () -> String) -> [String]? {
        guard case .sequence(let sequence) = node else {
            typeError(node, path(), expected: "a list of strings")
            return nil
        }
        var result: [String] = []
        var ok = true
        for (i, item) in sequence.enumerated() {
            if let s = string(item, "\(path())[\(i)]") { result.append(s) } else { ok = false }
        }
        return ok ? result : nil
    }

    /// The items of a list, or nil after reporting a non-list.
    func list(_ node: YAMLNode, _ path: @autoclosure () -> String, of what: String) -> [YAMLNode]? {
        guard case .sequence(let sequence) = node else {
            typeError(node, path(), expected: "a list of \(what)")
            return nil
        }
        return sequence.items
    }
}

/// The known fields of one mapping node, with its path.
struct Fields {
    let node: YAMLNode
    let path: String
    var values: [String: YAMLNode] = [:]
    var keys: [String: YAMLNode] = [:]

    subscript(key: String) -> YAMLNode? { values[key] }

    func path(_ key: String) -> String { Fields.join(path, key) }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}
