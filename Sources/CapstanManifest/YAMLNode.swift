/// A position in a manifest file: 1-based line and column (columns in Unicode scalars, as libyaml counts them).
struct YAMLMark: Sendable, Equatable {
    var line: Int
    var column: Int
}

/// One YAML node as ``YAMLComposer`` builds it from libyaml's events: what the manifest decoder reads. Aliases are
/// already replaced by the node their anchor names; tags are kept as libyaml spells them, unresolved.
enum YAMLNode: Sendable {
    case scalar(Scalar)
    case mapping(Mapping)
    case sequence(List)

    struct Scalar: Sendable {
        var string: String
        /// The explicit tag (`tag:yaml.org,2002:int` for `!!int`), or the string tag a quoted scalar implies; nil for
        /// a plain untagged scalar, whose type its text decides.
        var tag: String?
        /// Plain (or unspecified) style: the only scalars read as numbers.
        var isPlain: Bool
        var mark: YAMLMark
    }

    /// A mapping's key/value pairs in document order (duplicate keys included: the decoder reports them).
    struct Mapping: Sendable, Sequence {
        var pairs: [(YAMLNode, YAMLNode)]
        var tag: String?
        var mark: YAMLMark

        func makeIterator() -> IndexingIterator<[(YAMLNode, YAMLNode)]> { pairs.makeIterator() }
    }

    struct List: Sendable, Sequence {
        var items: [YAMLNode]
        var tag: String?
        var mark: YAMLMark

        func makeIterator() -> IndexingIterator<[YAMLNode]> { items.makeIterator() }
    }

    /// Where the node starts.
    var mark: YAMLMark {
        switch self {
        case .scalar(let scalar): return scalar.mark
        case .mapping(let mapping): return mapping.mark
        case .sequence(let list): return list.mark
        }
    }
}

extension YAMLNode {
    var isSequence: Bool {
        if case .sequence = self { return true }
        return false
    }
}
