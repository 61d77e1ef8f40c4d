import CapstanCore
// libyaml, as Yams builds it. Its module map reaches this target through the Yams dependency; Yams walks
// events recursively and offers no event API of its own, so manifests are composed on libyaml directly.
internal import CYaml

/// Composes the documents of a manifest file from libyaml's events in one loop (no recursion), checking the
/// ``ManifestLimits`` on the way: a list or mapping nested too deep, too many nodes, or an alias whose expansion
/// would take the file past either ends the pass with that violation and nothing else, so no tree beyond the
/// limits is ever built (a document nested thousands of levels cannot overflow the stack of the decoder after it).
///
/// A syntax error ends the pass too: the documents completed before it are kept, and the error is reported at
/// its position (as `YAML syntax error: problem (context)`).
struct YAMLComposer {
    let limits: ManifestLimits

    /// Where a limit was crossed and why.
    struct Violation: Equatable {
        var line: Int
        var column: Int
        var message: String
    }

    /// A YAML syntax error: its position (nil when libyaml gives none) and message.
    struct SyntaxError: Equatable {
        var mark: YAMLMark?
        var message: String
    }

    enum Outcome {
        /// Every document up to the end of the file, or up to a syntax error.
        case composed([YAMLNode], syntaxError: SyntaxError?)
        /// The file crosses a limit; nothing of it is used.
        case overLimit(Violation)
    }

    /// What an anchor stands for when an alias repeats it.
    private struct Anchored {
        var node: YAMLNode
        /// Nodes in the anchored subtree, the node itself included.
        var nodes: Int
        /// Levels of lists and mappings in it (0 for a scalar).
        var height: Int
    }

    /// A list or mapping whose end has not been seen yet.
    private struct Open {
        var isMapping: Bool
        var anchor: String?
        var tag: String?
        var mark: YAMLMark
        /// The node count before this collection's own node.
        var nodesBefore: Int
        /// The tallest child collection so far.
        var childHeight = 0
        var items: [YAMLNode] = []
        var pairs: [(YAMLNode, YAMLNode)] = []
        /// A mapping's key waiting for its value.
        var pendingKey: YAMLNode?
    }

    /// Composes UTF-8 `bytes`.
    func compose(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        // A byte-order mark is not part of the text (libyaml skips one only when it guesses the encoding itself).
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let bytes = bytes.starts(with: bom) ? UnsafeRawBufferPointer(rebasing: bytes.dropFirst(bom.count)) : bytes
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), !bytes.isEmpty else {
            return .composed([], syntaxError: nil)
        }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            return .composed([], syntaxError: SyntaxError(mark: nil, message: "YAML error: out of memory"))
        }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(&parser, base, bytes.count)

        var documents: [YAMLNode] = []
        var open: [Open] = []
        var anchors: [String: Anchored] = [:]  // kept across documents, as YAML composers keep them
        var nodes = 0
        var event = yaml_event_t()

        /// Adds a finished node (`height` levels tall) to the open collection, or ends the document with it.
        func attach(_ node: YAMLNode, height: Int) {
            guard !open.isEmpty else { return documents.append(node) }
            let top = open.count - 1
            open[top].childHeight = max(open[top].childHeight, height)
            if !open[top].isMapping {
                open[top].items.append(node)
            } else if let key = open[top].pendingKey {
                open[top].pairs.append((key, node))
                open[top].pendingKey = nil
            } else {
                open[top].pendingKey = node
            }
        }

        while true {
            guard yaml_parser_parse(&parser, &event) == 1 else {
                return .composed(documents, syntaxError: Self.syntaxError(parser))
            }
            defer { yaml_event_delete(&event) }
            let mark = YAMLMark(line: event.start_mark.line + 1, column: event.start_mark.column + 1)
            func violation(_ message: String) -> Outcome {
                .overLimit(Violation(line: mark.line, column: mark.column, message: message))
            }
            /// Counts a leaf (a scalar, or an alias standing for `anchored`) against the limits.
            func leafViolation(_ anchored: Anchored, alias: String?) -> Outcome? {
                let depth = open.count + anchored.height
                nodes = Self.saturatingAdd(nodes, anchored.nodes, cap: limits.maximumNodes + 1)
                if let alias, depth > limits.maximumDepth {
                    return violation(
                        "alias '*\(alias)' nests \(depth) levels deep here, more than the limit of \(limits.maximumDepth)")
                }
                if nodes > limits.maximumNodes {
                    if let alias {
                        return violation(
                            "alias '*\(alias)' repeats \(anchored.nodes) nodes, taking the file past the limit of "
                                + "\(limits.maximumNodes) YAML nodes")
                    }
                    return violation("more than \(limits.maximumNodes) YAML nodes in this file (the limit)")
                }
                return nil
            }

            switch event.type {
            case YAML_STREAM_END_EVENT:
                return .composed(documents, syntaxError: nil)
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let style = scalar.style
                let node = YAMLNode.scalar(YAMLNode.Scalar(
                    string: String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self),
                    tag: scalar.quoted_implicit == 1 ? Self.stringTag : Self.string(scalar.tag),
                    isPlain: style == YAML_ANY_SCALAR_STYLE || style == YAML_PLAIN_SCALAR_STYLE, mark: mark))
                let anchored = Anchored(node: node, nodes: 1, height: 0)
                if let found = leafViolation(anchored, alias: nil) { return found }
                if let anchor = Self.string(scalar.anchor) { anchors[anchor] = anchored }
                attach(node, height: 0)
            case YAML_ALIAS_EVENT:
                let name = Self.string(event.data.alias.anchor) ?? ""
                guard let anchored = anchors[name] else {
                    return .composed(documents, syntaxError: SyntaxError(mark: mark, message: "YAML syntax error: found undefined alias"))
                }
                if let found = leafViolation(anchored, alias: name) { return found }
                attach(anchored.node, height: anchored.height)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                let isMapping = event.type == YAML_MAPPING_START_EVENT
                if open.count + 1 > limits.maximumDepth {
                    return violation(
                        "this \(isMapping ? "mapping" : "list") is nested more than \(limits.maximumDepth) levels deep "
                            + "(the limit); manifests are never that deep")
                }
                let start = isMapping ? event.data.mapping_start : nil
                let sequence = isMapping ? nil : event.data.sequence_start
                let anchor = Self.string(start?.anchor ?? sequence?.anchor)
                let implicit = (start?.implicit ?? sequence?.implicit ?? 1) != 0
                let tag = implicit ? nil : Self.string(start?.tag ?? sequence?.tag)
                open.append(Open(isMapping: isMapping, anchor: anchor, tag: tag, mark: mark, nodesBefore: nodes))
                nodes += 1
                if nodes > limits.maximumNodes {
                    return violation("more than \(limits.maximumNodes) YAML nodes in this file (the limit)")
                }
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let closed = open.popLast() else { continue }
                let node: YAMLNode =
                    closed.isMapping
                    ? .mapping(YAMLNode.Mapping(pairs: closed.pairs, tag: closed.tag, mark: closed.mark))
                    : .sequence(YAMLNode.List(items: closed.items, tag: closed.tag, mark: closed.mark))
                let height = closed.childHeight + 1
                if let anchor = closed.anchor {
                    anchors[anchor] = Anchored(node: node, nodes: nodes - closed.nodesBefore, height: height)
                }
                attach(node, height: height)
            default:
                continue
            }
        }
    }

    /// The tag a quoted scalar implies.
    static let stringTag = "tag:yaml.org,2002:str"

    /// libyaml's error, worded as the manifest diagnostics word it.
    private static func syntaxError(_ parser: yaml_parser_t) -> SyntaxError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown problem"
        switch parser.error {
        case YAML_SCANNER_ERROR, YAML_PARSER_ERROR, YAML_COMPOSER_ERROR:
            let mark = YAMLMark(line: parser.problem_mark.line + 1, column: parser.problem_mark.column + 1)
            let detail = parser.context.map { "\(problem) (\(String(cString: $0)))" } ?? problem
            return SyntaxError(mark: mark, message: "YAML syntax error: \(detail)")
        case YAML_READER_ERROR:
            return SyntaxError(mark: nil, message: "YAML syntax error: \(problem)")
        case YAML_MEMORY_ERROR:
            return SyntaxError(mark: nil, message: "YAML error: out of memory")
        default:
            return SyntaxError(mark: nil, message: "YAML error: \(problem)")
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private static func saturatingAdd(_ a: Int, _ b: Int, cap: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? cap : min(sum, cap)
    }
}
