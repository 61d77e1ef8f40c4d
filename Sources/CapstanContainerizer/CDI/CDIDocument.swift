// libyaml, as Yams builds it: its module map reaches this target through the Yams dependency. Yams composes
// recursively and has no limits, so a CDI file is composed here from libyaml's events in one loop.
internal import CYaml

/// One node of a CDI spec file, JSON or YAML (JSON is read as YAML, as the CDI reference library reads it), with
/// the 1-based line and column where it starts.
struct CDINode: Sendable {
    enum Value: Sendable {
        /// A scalar's text; `plain` when unquoted (only plain scalars are numbers, booleans or null).
        case scalar(String, plain: Bool)
        /// Key/value pairs in document order; keys are scalars, each key once.
        case mapping([(key: String, keyNode: CDINode, value: CDINode)])
        case sequence([CDINode])
    }

    var value: Value
    var line: Int
    var column: Int

    /// A plain `null`, `~` or empty scalar: an absent optional field, as the reference library treats it.
    var isNull: Bool {
        if case .scalar(let text, plain: true) = value { return text.isEmpty || text == "null" || text == "~" || text == "Null" || text == "NULL" }
        return false
    }
}

/// Composes a CDI file's bytes into one ``CDINode`` tree within ``CDILimits``. Aliases are refused (specs never
/// need them, and they are how a small file expands into a huge one); so are multiple documents.
struct CDIDocumentReader {
    var limits: CDILimits

    /// Why a file could not be composed, with the position libyaml gave when it gave one.
    struct Failure: Error {
        var line: Int?
        var column: Int?
        var message: String
    }

    private struct Open {
        var isMapping: Bool
        var line: Int
        var column: Int
        var items: [CDINode] = []
        var pairs: [(key: String, keyNode: CDINode, value: CDINode)] = []
        var keys: Set<String> = []
        var pendingKey: CDINode?
    }

    func read(_ bytes: [UInt8]) throws(Failure) -> CDINode {
        var bytes = bytes[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        guard bytes.contains(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) else {
            throw Failure(message: "the file is empty; a CDI spec needs cdiVersion, kind and devices")
        }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { buffer throws(Failure) -> CDINode in
            try compose(buffer)
        }
    }

    private func compose(_ buffer: UnsafeBufferPointer<UInt8>) throws(Failure) -> CDINode {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw Failure(message: "YAML error: out of memory") }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)

        var open: [Open] = []
        var document: CDINode?
        var documents = 0
        var nodes = 0
        var event = yaml_event_t()

        while true {
            guard yaml_parser_parse(&parser, &event) == 1 else { throw Self.syntaxError(parser) }
            defer { yaml_event_delete(&event) }
            let line = event.start_mark.line + 1
            let column = event.start_mark.column + 1
            func fail(_ message: String) -> Failure { Failure(line: line, column: column, message: message) }

            func attach(_ node: CDINode) throws(Failure) {
                guard !open.isEmpty else { document = node; return }
                let top = open.count - 1
                if !open[top].isMapping {
                    open[top].items.append(node)
                } else if let keyNode = open[top].pendingKey {
                    guard case .scalar(let key, _) = keyNode.value else { throw fail("mapping keys must be plain text") }
                    open[top].pairs.append((key: key, keyNode: keyNode, value: node))
                    open[top].pendingKey = nil
                } else {
                    guard case .scalar(let key, _) = node.value else {
                        throw Failure(line: node.line, column: node.column, message: "mapping keys must be plain text, not a list or mapping")
                    }
                    guard open[top].keys.insert(key).inserted else {
                        throw Failure(line: node.line, column: node.column, message: "duplicate key '\(key)'")
                    }
                    open[top].pendingKey = node
                }
            }

            switch event.type {
            case YAML_STREAM_END_EVENT:
                guard let document else { throw Failure(message: "the file holds no YAML or JSON document") }
                return document
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 { throw fail("a CDI spec file holds one document; this is a second one") }
            case YAML_ALIAS_EVENT:
                throw fail("YAML aliases are not accepted in CDI specs")
            case YAML_SCALAR_EVENT:
                nodes += 1
                if nodes > limits.maximumNodes { throw fail("more than \(limits.maximumNodes) values in this file (the limit)") }
                let scalar = event.data.scalar
                guard scalar.length <= limits.maximumStringBytes else {
                    throw fail("a value of \(scalar.length) bytes, more than the limit of \(limits.maximumStringBytes)")
                }
                let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
                let explicitString = scalar.tag.map { String(cString: $0) } == "tag:yaml.org,2002:str"
                let plain = (scalar.style == YAML_ANY_SCALAR_STYLE || scalar.style == YAML_PLAIN_SCALAR_STYLE) && !explicitString
                try attach(CDINode(value: .scalar(text, plain: plain), line: line, column: column))
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                nodes += 1
                if nodes > limits.maximumNodes { throw fail("more than \(limits.maximumNodes) values in this file (the limit)") }
                if open.count + 1 > limits.maximumDepth {
                    throw fail("nested more than \(limits.maximumDepth) levels deep (the limit); CDI specs are never that deep")
                }
                open.append(Open(isMapping: event.type == YAML_MAPPING_START_EVENT, line: line, column: column))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let closed = open.popLast() else { continue }
                let node = CDINode(
                    value: closed.isMapping ? .mapping(closed.pairs) : .sequence(closed.items), line: closed.line, column: closed.column)
                try attach(node)
            default:
                continue
            }
        }
    }

    private static func syntaxError(_ parser: yaml_parser_t) -> Failure {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown problem"
        switch parser.error {
        case YAML_SCANNER_ERROR, YAML_PARSER_ERROR, YAML_COMPOSER_ERROR:
            let detail = parser.context.map { "\(problem) (\(String(cString: $0)))" } ?? problem
            return Failure(line: parser.problem_mark.line + 1, column: parser.problem_mark.column + 1, message: "syntax error: \(detail)")
        case YAML_MEMORY_ERROR:
            return Failure(message: "YAML error: out of memory")
        default:
            return Failure(message: "syntax error: \(problem)")
        }
    }
}

/// The bounds a CDI spec file must stay within; a file beyond them is refused before it is decoded.
public struct CDILimits: Sendable, Equatable {
    /// Largest file read (generated NVIDIA specs for 8 GPUs are well under 100 KiB).
    public var maximumFileBytes: Int
    /// Most scalars, lists and mappings in one file.
    public var maximumNodes: Int
    /// Deepest nesting of lists and mappings (a valid spec nests at most 6).
    public var maximumDepth: Int
    /// Longest single value.
    public var maximumStringBytes: Int

    public init(maximumFileBytes: Int = 4 << 20, maximumNodes: Int = 200_000, maximumDepth: Int = 16, maximumStringBytes: Int = 64 << 10) {
        self.maximumFileBytes = maximumFileBytes
        self.maximumNodes = maximumNodes
        self.maximumDepth = maximumDepth
        self.maximumStringBytes = maximumStringBytes
    }

    /// The defaults above.
    public static let standard = CDILimits()
}
