import CapstanCore
// libyaml, as Yams builds it. Its module map reaches this target through the Yams dependency; Yams walks
// events recursively and offers no event API of its own, so the limits are checked on libyaml directly.
internal import CYaml

/// Walks the libyaml events of a manifest file in a loop (no recursion, no tree) and finds the first
/// place where the file crosses a ``ManifestLimits`` bound: a list or mapping nested too deep, too many
/// nodes, or an alias whose expansion would take the file past either. It runs before Yams composes the
/// text, because Yams composes recursively and a document nested thousands of levels overflows the stack.
///
/// A syntax error ends the scan without a finding: everything before it is within the limits, and the
/// Yams pass that follows reports the error at its position.
struct YAMLLimitScanner {
    let limits: ManifestLimits

    /// Where a limit was crossed (1-based, columns in characters as libyaml counts them) and why.
    struct Violation: Equatable {
        var line: Int
        var column: Int
        var message: String
    }

    /// What an anchor stands for when an alias repeats it.
    private struct Anchored {
        /// Nodes in the anchored subtree, the node itself included.
        var nodes: Int
        /// Levels of lists and mappings in it (0 for a scalar).
        var height: Int
    }

    /// A list or mapping whose end has not been seen yet.
    private struct Open {
        var anchor: String?
        /// The node count before this collection's own node.
        var nodesBefore: Int
        /// The tallest child collection so far.
        var childHeight = 0
    }

    /// Scans UTF-8 `bytes`.
    func firstViolation(in bytes: UnsafeRawBufferPointer) -> Violation? {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), !bytes.isEmpty else { return nil }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(&parser, base, bytes.count)

        var open: [Open] = []
        var anchors: [String: Anchored] = [:]  // kept across documents, as Yams keeps them
        var nodes = 0
        var event = yaml_event_t()
        while yaml_parser_parse(&parser, &event) == 1 {
            defer { yaml_event_delete(&event) }
            let mark = event.start_mark
            func violation(_ message: String) -> Violation {
                Violation(line: mark.line + 1, column: mark.column + 1, message: message)
            }
            /// Adds a leaf (a scalar, or an alias standing for `anchored`) to the open collection.
            func addLeaf(_ anchored: Anchored, alias: String?) -> Violation? {
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
                if !open.isEmpty { open[open.count - 1].childHeight = max(open[open.count - 1].childHeight, anchored.height) }
                return nil
            }

            switch event.type {
            case YAML_STREAM_END_EVENT:
                return nil
            case YAML_SCALAR_EVENT:
                let leaf = Anchored(nodes: 1, height: 0)
                if let found = addLeaf(leaf, alias: nil) { return found }
                if let anchor = Self.string(event.data.scalar.anchor) { anchors[anchor] = leaf }
            case YAML_ALIAS_EVENT:
                let name = Self.string(event.data.alias.anchor) ?? ""
                // An unknown alias is Yams' error to report; count it as one node meanwhile.
                if let found = addLeaf(anchors[name] ?? Anchored(nodes: 1, height: 0), alias: name) { return found }
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                let anchor =
                    event.type == YAML_SEQUENCE_START_EVENT
                    ? Self.string(event.data.sequence_start.anchor) : Self.string(event.data.mapping_start.anchor)
                if open.count + 1 > limits.maximumDepth {
                    let what = event.type == YAML_SEQUENCE_START_EVENT ? "list" : "mapping"
                    return violation(
                        "this \(what) is nested more than \(limits.maximumDepth) levels deep (the limit); "
                            + "manifests are never that deep")
                }
                open.append(Open(anchor: anchor, nodesBefore: nodes))
                nodes += 1
                if nodes > limits.maximumNodes {
                    return violation("more than \(limits.maximumNodes) YAML nodes in this file (the limit)")
                }
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let closed = open.popLast() else { continue }
                let anchored = Anchored(nodes: nodes - closed.nodesBefore, height: closed.childHeight + 1)
                if let anchor = closed.anchor { anchors[anchor] = anchored }
                if !open.isEmpty { open[open.count - 1].childHeight = max(open[open.count - 1].childHeight, anchored.height) }
            default:
                continue
            }
        }
        return nil
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private static func saturatingAdd(_ a: Int, _ b: Int, cap: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? cap : min(sum, cap)
    }
}
