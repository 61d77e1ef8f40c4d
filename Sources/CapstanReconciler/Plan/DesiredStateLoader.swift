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
        manifests.isValid
            ? DesiredState(commit: commit, workloads: manifests.workloads, templateLabels: manifests.templateLabels) : nil
    }
}

/// Reads the desired state from a ``GitSource`` at a revision, below a sub-path, without a checkout.
///
/// Decoded files are cached by blob ID: a blob is read and parsed once, however many commits (or paths)
/// hold it, so a second commit costs only the blobs it changed; the cache keeps the blobs of the last
/// few loads. The blobs a load still needs are read in one call to the source (libgit2 stays on the
/// source's own thread) and parsed in parallel off it, one task per core.
public actor DesiredStateLoader {
    public nonisolated let source: any GitSource
    /// The directory inside the repository (empty: the root).
    public nonisolated let path: String
    private let logger: Logger
    /// How many files are parsed at once (at least 1).
    private let parallelism: Int

    private var cache: [ObjectID: DecodedBlob] = [:]
    /// Parses done since the loader was made (cache misses), for tests and logs.
    public private(set) var parsedFiles = 0

    /// `parallelism` defaults to the number of cores this process may use.
    public init(
        source: any GitSource, path: String, parallelism: Int = ProcessInfo.processInfo.activeProcessorCount,
        logger: Logger = Logger(label: "capstan.reconciler.desired")
    ) {
        self.source = source
        self.path = path
        self.parallelism = max(1, parallelism)
        self.logger = logger
    }

    /// Resolves `revision` (a branch, tag, `HEAD` or commit, in the source's cache) and loads it.
    public func load(revision: String) async throws -> LoadedManifests {
        try await load(commit: try await source.resolve(revision))
    }

    /// Loads every manifest under ``path`` at `commit`. Throws `notFound` when the path is absent there.
    public func load(commit: CommitID) async throws -> LoadedManifests {
        let files = try await source.entries(at: commit, under: path, matching: { ManifestLoader.isManifestPath($0) })
            .sorted { $0.path < $1.path }
        // Taken before any suspension: another load may trim the cache while this one waits.
        var decoded: [ObjectID: DecodedBlob] = [:]
        var missing: [GitTreeEntry] = []  // one file per blob not in the cache, the first path that holds it
        var pending: Set<ObjectID> = []
        for file in files where decoded[file.blobID] == nil {
            if let cached = cache[file.blobID] {
                decoded[file.blobID] = cached
            } else if pending.insert(file.blobID).inserted {
                missing.append(file)
            }
        }
        if !missing.isEmpty {
            let contents = try await source.blobs(missing.map(\.blobID))
            let parsed = await Self.decode(
                zip(missing, contents).map { ManifestFile(path: $0.0.path, contents: $0.1) }, parallelism: parallelism)
            for (file, blob) in zip(missing, parsed) {
                decoded[file.blobID] = blob
                cache[file.blobID] = blob
            }
            parsedFiles += parsed.count
        }
        var entries: [ManifestEntry] = []
        var diagnostics: [ManifestDiagnostic] = []
        var skipped: [SkippedDocument] = []
        for file in files {
            let blob = decoded[file.blobID]!.moved(to: file.path)
            entries += blob.entries
            diagnostics += blob.diagnostics
            skipped += blob.skipped
        }
        trimCache(keeping: Set(files.map(\.blobID)))
        let set = ManifestSet(entries: entries, diagnostics: diagnostics, skipped: skipped)
        logger.debug(
            "Loaded manifests",
            metadata: ["commit": "\(commit.short)", "files": "\(files.count)", "parsed": "\(missing.count)", "valid": "\(set.isValid)"])
        return LoadedManifests(commit: commit, manifests: set)
    }

    /// Decodes `files` with at most `parallelism` tasks, each taking every `parallelism`-th file (files of
    /// a repository are of similar size, so the shares are even); the results are in the order of `files`.
    static func decode(_ files: [ManifestFile], parallelism: Int) async -> [DecodedBlob] {
        let workers = min(parallelism, files.count)
        guard workers > 1 else { return files.map { DecodedBlob(ManifestLoader.decodeFile($0), path: $0.path) } }
        return await withTaskGroup(of: (Int, [DecodedBlob]).self) { group in
            for worker in 0..<workers {
                group.addTask {
                    let share = stride(from: worker, to: files.count, by: workers).map { index in
                        DecodedBlob(ManifestLoader.decodeFile(files[index]), path: files[index].path)
                    }
                    return (worker, share)
                }
            }
            var shares = [[DecodedBlob]](repeating: [], count: workers)
            for await (worker, share) in group { shares[worker] = share }
            var out: [DecodedBlob] = []
            out.reserveCapacity(files.count)
            for index in files.indices { out.append(shares[index % workers][index / workers]) }
            return out
        }
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
    private func trimCache(keeping used: Set<ObjectID>) {
        guard cache.count > max(64, used.count * 4) else { return }
        cache = cache.filter { used.contains($0.key) }
    }
}
