/// A position in a manifest file: the file's path as shown to people, and a 1-based line and column.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, the form editors and CI annotations understand.
    public var description: String { "\(file):\(line):\(column)" }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
    }
}

/// One problem found in a manifest: where, which field (a path such as `spec.resources.mem` or
/// `spec.volumes[1].path`), and a sentence. Loaders collect them instead of stopping at the first.
public struct ManifestDiagnostic: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var location: SourceLocation
    /// The field path inside the document; empty for problems of the document as a whole.
    public var path: String
    public var message: String

    public init(_ location: SourceLocation, path: String, _ message: String) {
        self.location = location
        self.path = path
        self.message = message
    }

    public var file: String { location.file }
    public var line: Int { location.line }
    public var column: Int { location.column }

    /// `apps/web.yaml:12:7: spec.resources.mem: '12XB' is not a size (use e.g. 128Mi, 1Gi)`.
    public var description: String {
        path.isEmpty ? "\(location): \(message)" : "\(location): \(path): \(message)"
    }

    public static func < (lhs: ManifestDiagnostic, rhs: ManifestDiagnostic) -> Bool {
        (lhs.location, lhs.path, lhs.message) < (rhs.location, rhs.path, rhs.message)
    }
}
