import CapstanCore
import CapstanManifest

extension Validate {
    static func loadFromGit(repo: String, revision: String, subPath: String) async throws -> ManifestSet {
        throw CapstanError(.unsupported, "--repo is not implemented yet")
    }
}
