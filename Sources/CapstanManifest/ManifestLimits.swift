/// The bounds one manifest file must stay within. They are checked while the composer builds a tree from the
/// text, so a hostile file (nested thousands of levels deep, or a "billion laughs" of aliases) is
/// reported as a diagnostic instead of overflowing the stack or exhausting memory.
public struct ManifestLimits: Sendable, Hashable {
    /// The largest file, in bytes.
    public var maximumFileBytes: Int
    /// The deepest nesting of mappings and lists (a top-level mapping is depth 1).
    public var maximumDepth: Int
    /// The most YAML nodes (scalars, mappings, lists) in one file, counting each alias as the nodes it stands for.
    public var maximumNodes: Int

    public init(maximumFileBytes: Int = 1 << 20, maximumDepth: Int = 64, maximumNodes: Int = 100_000) {
        self.maximumFileBytes = maximumFileBytes
        self.maximumDepth = maximumDepth
        self.maximumNodes = maximumNodes
    }

    /// 1 MiB, 64 levels and 100,000 nodes per file: far beyond any real manifest.
    public static let `default` = ManifestLimits()
}
