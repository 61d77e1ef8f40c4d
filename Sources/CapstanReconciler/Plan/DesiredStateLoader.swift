import CapstanCore
import CapstanGit
import CapstanManifest
import Foundation
import Logging

/// The manifests of one commit: every decoded workload and every problem, with file:line:col positions.
public struct LoadedManifests: Sendable {
    public var commit: CommitID
    public var manifests: ManifestSet

    public init(commit: CommitID, manifests: ManifestSet) {
        self.commit = commit
        self.manifests = manifests
    }

    /// The desired state, or nil when any manifest is invalid (a partial state must never be deployed).
    public var desiredState: DesiredState? {
        manifests.isValid ? DesiredState(commit: commit.hex, workloads: manifests.workloads) : nil
    }
}

/// Reads the desired state from a ``GitSource`` at a revision, below a sub-path, without a checkout.
/// Decoded files are cached by path and blob ID, so a file that did not change between commits is
/// never parsed again; the cache keeps the files of the last few loads.
public actor DesiredStateLoader {
    public nonisolated let source: any GitSource
    /// The directory inside the repository (empty: the root).
    public nonisolated let path: String
    private let logger: Logger

    struct FileKey: Hashable {
        var path: String
        var blob: ObjectID
    }
    private var cache: [FileKey: (entries: [ManifestEntry], diagnostics: [ManifestDiagnostic])] = [:]
    /// Parses done since the loader was made (cache misses), for tests and logs.
    public private(set) var parsedFiles = 0

    public init(source: any GitSource, path: String, logger: Logger = Logger(label: "capstan.reconciler.desired")) {
        self.source = source
        self.path = path
        self.logger = logger
    }

    /// Resolves `revision` (a branch, tag, `HEAD` or commit, in the source's cache) and loads it.
    public func load(revision: String) async throws -> LoadedManifests {
        try await load(commit: try await source.resolve(revision))
    }

    /// Loads every manifest under ``path`` at `commit`. Throws `notFound` when the path is absent there.
    public func load(commit: CommitID) async throws -> LoadedManifests {
        let files = try await source.files(at: commit, under: path, matching: { ManifestLoader.isManifestPath($0) })
        var entries: [ManifestEntry] = []
        var diagnostics: [ManifestDiagnostic] = []
        var seen: Set<FileKey> = []
        for file in files.sorted(by: { $0.path < $1.path }) {
            let key = FileKey(path: file.path, blob: file.blobID)
            seen.insert(key)
            let decoded: (entries: [ManifestEntry], diagnostics: [ManifestDiagnostic])
            if let cached = cache[key] {
                decoded = cached
            } else {
                decoded = ManifestLoader.decode(ManifestFile(path: file.path, contents: file.contents))
                cache[key] = decoded
                parsedFiles += 1
            }
            entries += decoded.entries
            diagnostics += decoded.diagnostics
        }
        trimCache(keeping: seen)
        let set = ManifestSet(entries: entries, diagnostics: diagnostics)
        logger.debug("Loaded manifests", metadata: ["commit": "\(commit.short)", "files": "\(files.count)", "valid": "\(set.isValid)"])
        return LoadedManifests(commit: commit, manifests: set)
    }

    /// The workloads at each commit the snapshot's tasks carry (for field-level changes). A commit that
    /// cannot be resolved or read, or whose manifests are invalid, is left out and logged.
    public func runningSpecs(for snapshot: ClusterSnapshot) async -> [DesiredState] {
        var out: [DesiredState] = []
        for commit in Set(snapshot.tasks.map(\.commit).filter { !$0.isEmpty }).sorted() {
            do {
                let loaded = try await load(revision: commit)
                if let state = loaded.desiredState {
                    out.append(state)
                } else {
                    logger.info("Manifests at a running commit are invalid; field changes unknown", metadata: ["commit": "\(commit)"])
                }
            } catch {
                logger.info("Cannot read a running commit; field changes unknown", metadata: ["commit": "\(commit)", "error": "\(error)"])
            }
        }
        return out
    }

    /// Keeps the cache from growing without bound: once it holds more than 4× the files of one load,
    /// only the files just used stay.
    private func trimCache(keeping used: Set<FileKey>) {
        guard cache.count > max(64, used.count * 4) else { return }
        cache = cache.filter { used.contains($0.key) }
    }
}
