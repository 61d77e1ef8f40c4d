/// One decoded manifest document, with the positions the repository-wide checks report at.
public struct ManifestEntry: Sendable, Hashable {
    public var workload: Workload
    /// Where `metadata.name`'s value is.
    public var nameLocation: SourceLocation
    /// Where each `spec.dependsOn` item is, in order.
    public var dependsOnLocations: [SourceLocation]
    /// `workload`'s ``Workload/templateLabel``, hashed once where the document is decoded (in parallel, and once
    /// per blob however many commits share it).
    public let templateLabel: String

    public init(workload: Workload, nameLocation: SourceLocation, dependsOnLocations: [SourceLocation] = []) {
        self.workload = workload
        self.nameLocation = nameLocation
        self.dependsOnLocations = dependsOnLocations
        self.templateLabel = workload.templateLabel
    }

    public var file: String { nameLocation.file }
}

/// The apps and jobs of a repository (or a directory), and every problem found in them.
public struct ManifestSet: Sendable {
    /// Documents that decoded, in file order; may hold duplicates when ``diagnostics`` is not empty.
    public var entries: [ManifestEntry]
    /// Every problem, sorted by file, line and column.
    public var diagnostics: [ManifestDiagnostic]
    /// Documents that are not Capstan manifests (``SkippedDocument``), in file order: neither errors nor workloads.
    public var skipped: [SkippedDocument]

    /// Runs the repository-wide checks (duplicate names, dangling `dependsOn`, dependency cycles)
    /// over `entries` and adds their findings to the per-document `diagnostics`.
    public init(entries: [ManifestEntry], diagnostics: [ManifestDiagnostic] = [], skipped: [SkippedDocument] = []) {
        self.skipped = skipped
        self.entries = entries
        self.diagnostics = (diagnostics + ManifestSet.check(entries)).sorted()
    }

    public var isValid: Bool { diagnostics.isEmpty }
    public var workloads: [Workload] { entries.map(\.workload) }
    /// The template label of each workload, by name (the first entry of a name).
    public var templateLabels: [AppName: String] {
        var labels: [AppName: String] = [:]
        labels.reserveCapacity(entries.count)
        for entry in entries where labels[entry.workload.name] == nil { labels[entry.workload.name] = entry.templateLabel }
        return labels
    }
    public var apps: [Workload] { workloads.filter { $0.kind == .app } }
    public var jobs: [Workload] { workloads.filter { $0.kind == .job } }

    /// `2 apps, 1 job`.
    public var summary: String {
        func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        return "\(plural(apps.count, "app")), \(plural(jobs.count, "job"))"
    }

    static func check(_ entries: [ManifestEntry]) -> [ManifestDiagnostic] {
        var diagnostics: [ManifestDiagnostic] = []
        var first: [AppName: ManifestEntry] = [:]
        for entry in entries {
            if let earlier = first[entry.workload.name] {
                diagnostics.append(ManifestDiagnostic(
                    entry.nameLocation, path: "metadata.name",
                    "duplicate name '\(entry.workload.name)': already defined at \(earlier.nameLocation)"))
            } else {
                first[entry.workload.name] = entry
            }
        }
        for entry in entries {
            for (i, dependency) in entry.workload.spec.dependsOn.enumerated() where first[dependency] == nil {
                diagnostics.append(ManifestDiagnostic(
                    entry.dependsOnLocations[safe: i] ?? entry.nameLocation, path: "spec.dependsOn[\(i)]",
                    "'\(dependency)' is not an app or job in this repository"))
            }
        }
        diagnostics += cycles(first)
        return diagnostics
    }

    /// One diagnostic per back edge of a depth-first walk in name order, at the `dependsOn` item that closes the cycle.
    private static func cycles(_ byName: [AppName: ManifestEntry]) -> [ManifestDiagnostic] {
        enum Mark { case active, done }
        var marks: [AppName: Mark] = [:]
        var stack: [AppName] = []
        var diagnostics: [ManifestDiagnostic] = []

        func visit(_ name: AppName) {
            guard let entry = byName[name] else { return }
            marks[name] = .active
            stack.append(name)
            for (i, dependency) in entry.workload.spec.dependsOn.enumerated() {
                switch marks[dependency] {
                case .active:
                    let start = stack.lastIndex(of: dependency)!
                    let cycle = (stack[start...] + [dependency]).map(\.value).joined(separator: " -> ")
                    diagnostics.append(ManifestDiagnostic(
                        entry.dependsOnLocations[safe: i] ?? entry.nameLocation, path: "spec.dependsOn[\(i)]",
                        "dependency cycle: \(cycle)"))
                case .done: continue
                case nil: visit(dependency)
                }
            }
            stack.removeLast()
            marks[name] = .done
        }
        for name in byName.keys.sorted() where marks[name] == nil { visit(name) }
        return diagnostics
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
