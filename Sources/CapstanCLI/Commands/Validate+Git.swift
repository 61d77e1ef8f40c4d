import CapstanCore
import CapstanGit
import CapstanManifest
import Foundation

extension Validate {
    /// Fetches `repo` into a scratch bare cache, reads the manifests under `subPath` at `revision`
    /// through libgit2 (no checkout), and checks them. Files are named by their path in the repository.
    static func loadFromGit(repo: String, revision: String, subPath: String) async throws -> ManifestSet {
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-validate-\(UUID().uuidString).git")
        defer { try? FileManager.default.removeItem(at: cache) }
        let source = LibGit2Source(remote: GitRemote(url: repo), cachePath: cache.path)
        try await source.fetch()
        let commit = try await source.resolve(revision)
        let files = try await source.files(at: commit, under: subPath, matching: { ManifestLoader.isManifestPath($0) })
        return ManifestLoader.load(files.map { ManifestFile(path: $0.path, contents: $0.contents) })
    }
}
