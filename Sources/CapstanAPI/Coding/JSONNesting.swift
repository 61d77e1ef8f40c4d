/// How deeply the arrays and objects of a JSON text nest, measured in one pass over its bytes without
/// parsing it. Decoders recurse once per level, so a message is measured (and refused when too deep)
/// before it is decoded.
public enum JSONNesting {
    /// The deepest nesting a Mesos message may have. Real messages stay under 20 levels (a LAUNCH_GROUP
    /// call with volumes and health checks is about 16).
    public static let defaultMaximumDepth = 64

    /// What a measure found.
    public struct Measure: Sendable, Hashable {
        /// The deepest nesting in the text (0 for a bare scalar).
        public var depth: Int
        /// The offset of the first `[` or `{` that went past the limit, if any did.
        public var firstBeyondLimit: Int?

        public init(depth: Int, firstBeyondLimit: Int?) {
            self.depth = depth
            self.firstBeyondLimit = firstBeyondLimit
        }
    }

    /// Measures `bytes`, skipping strings (and the escapes in them). It does not validate the text: a
    /// malformed document measures as whatever its brackets say, and the decoder then refuses it.
    public static func measure(_ bytes: some Sequence<UInt8>, limit: Int) -> Measure {
        var result = Measure(depth: 0, firstBeyondLimit: nil)
        var depth = 0
        var inString = false
        var escaped = false
        var offset = 0
        for byte in bytes {
            defer { offset += 1 }
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > result.depth { result.depth = depth }
                if depth > limit, result.firstBeyondLimit == nil { result.firstBeyondLimit = offset }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth = max(0, depth - 1)
            default:
                break
            }
        }
        return result
    }
}
