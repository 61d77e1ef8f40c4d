import CapstanCore
import CapstanManifest

/// What one blob decoded to, at the path it was decoded under; the same bytes at another path decode to
/// the same workloads with that path in every position (``moved(to:)``).
struct DecodedBlob: Sendable {
    var path: String
    var entries: [ManifestEntry]
    var diagnostics: [ManifestDiagnostic]
    /// Documents that are not Capstan manifests.
    var skipped: [SkippedDocument] = []

    init(_ decoded: (entries: [ManifestEntry], diagnostics: [ManifestDiagnostic]), path: String) {
        self.path = path
        self.entries = decoded.entries
        self.diagnostics = decoded.diagnostics
    }

    init(_ decoded: ManifestLoader.DecodedFile, path: String) {
        self.path = path
        self.entries = decoded.entries
        self.diagnostics = decoded.diagnostics
        self.skipped = decoded.skipped
    }

    /// The same results with every position naming `newPath` (a rename, or a copy of a file).
    func moved(to newPath: String) -> DecodedBlob {
        guard newPath != path else { return self }
        func move(_ location: SourceLocation) -> SourceLocation {
            SourceLocation(file: newPath, line: location.line, column: location.column)
        }
        var out = self
        out.path = newPath
        out.entries = entries.map { entry in
            ManifestEntry(
                workload: entry.workload, nameLocation: move(entry.nameLocation),
                dependsOnLocations: entry.dependsOnLocations.map(move))
        }
        out.diagnostics = diagnostics.map { ManifestDiagnostic(move($0.location), path: $0.path, $0.message) }
        out.skipped = skipped.map { SkippedDocument(location: move($0.location), apiVersion: $0.apiVersion, kind: $0.kind) }
        return out
    }
}
