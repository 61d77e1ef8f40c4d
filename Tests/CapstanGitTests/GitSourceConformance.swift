import CapstanCore
import CapstanGit
import Foundation
import Testing

/// How a test reaches the fixture repository; each kind of ``GitSource`` runs the whole suite.
enum GitSourceKind: String, CaseIterable, CustomTestStringConvertible {
    case libgit2LocalPath
    case libgit2FileURL
    /// libgit2 behind a wrapper that keeps the protocol's default ``GitSource/changes(from:to:under:matching:)``.
    case defaultChanges

    var testDescription: String { rawValue }

    func make(_ fixture: GitFixture) -> any GitSource {
        switch self {
        case .libgit2LocalPath: LibGit2Source(remote: GitRemote(url: fixture.path), cachePath: fixture.cachePath)
        case .libgit2FileURL: LibGit2Source(remote: GitRemote(url: "file://" + fixture.path), cachePath: fixture.cachePath)
        case .defaultChanges: ForwardingSource(LibGit2Source(remote: GitRemote(url: fixture.path), cachePath: fixture.cachePath))
        }
    }
}

/// The contract of ``GitSource``, run against every implementation (containerd's snapshot testsuite pattern).
@Suite("GitSourceConformance", .serialized)
struct GitSourceConformance {
    /// main: apps/web.yaml, apps/db.yaml, jobs/migrate.yaml, README.md, a symlink; tag v1 (annotated) and
    /// v1-light at the first commit; branch feature with a changed web.yaml; then main changes db.yaml.
    struct History {
        var first: String
        var feature: String
        var second: String
    }

    @Test(arguments: GitSourceKind.allCases)
    func resolvesBranchesTagsAndCommits(kind: GitSourceKind) async throws {
        try await GitFixture.with { fixture in
            let history = try await Self.history(fixture)
            let source = kind.make(fixture)
            try await source.fetch()
            #expect(try await source.resolve("main").hex == history.second)
            #expect(try await source.resolve("HEAD").hex == history.second)
            #expect(try await source.resolve("refs/heads/main").hex == history.second)
            #expect(try await source.resolve("feature").hex == history.feature)
            #expect(try await source.resolve("v1").hex == history.first)
            #expect(try await source.resolve("v1-light").hex == history.first)
            #expect(try await source.resolve(history.first).hex == history.first)
            #expect(try await source.resolve(String(history.first.prefix(10))).hex == history.first)
            #expect(try await source.resolve("main~1").hex == history.first)
            await #expect(throws: CapstanError.self) { try await source.resolve("no-such-branch") }
        }
    }

    @Test(arguments: GitSourceKind.allCases)
    func readsFilesUnderASubPathWithoutACheckout(kind: GitSourceKind) async throws {
        try await GitFixture.with { fixture in
            let history = try await Self.history(fixture)
            let source = kind.make(fixture)
            try await source.fetch()
            let head = try await source.resolve("main")
            let apps = try await source.files(at: head, under: "apps")
            #expect(apps.map(\.path) == ["apps/db.yaml", "apps/web.yaml"])
            #expect(apps.map { String(decoding: $0.contents, as: UTF8.self) } == ["db: 2\n", "web: 1\n"])
            #expect(apps[1].blobID.hex == (try await fixture.git("rev-parse", "main:apps/web.yaml")))
            let all = try await source.files(at: head, under: "", matching: { $0.hasSuffix(".yaml") })
            #expect(all.map(\.path) == ["apps/db.yaml", "apps/web.yaml", "jobs/migrate.yaml"])
            // Symbolic links are skipped; README is there without a filter.
            #expect(try await source.files(at: head, under: "/").map(\.path).contains("README.md"))
            #expect(!(try await source.files(at: head, under: "").map(\.path).contains("link.yaml")))
            let old = try await source.files(at: CommitID(hex: history.first), under: "./apps/")
            #expect(old.map { String(decoding: $0.contents, as: UTF8.self) } == ["db: 1\n", "web: 1\n"])
            #expect(try await source.files(at: head, under: "jobs/migrate.yaml").map(\.path) == ["jobs/migrate.yaml"])
            await #expect(throws: CapstanError.self) { try await source.files(at: head, under: "nowhere") }
        }
    }

    @Test(arguments: GitSourceKind.allCases)
    func entriesListTheFilesAndBlobsReadTheirBytes(kind: GitSourceKind) async throws {
        try await GitFixture.with { fixture in
            let history = try await Self.history(fixture)
            let source = kind.make(fixture)
            try await source.fetch()
            let head = try await source.resolve("main")
            let filters: [(String, @Sendable (String) -> Bool)] = [
                ("apps", { _ in true }), ("", { $0.hasSuffix(".yaml") }), ("jobs/migrate.yaml", { _ in true }),
            ]
            for (path, include) in filters {
                let files = try await source.files(at: head, under: path, matching: include)
                let entries = try await source.entries(at: head, under: path, matching: include)
                #expect(entries == files.map { GitTreeEntry(path: $0.path, blobID: $0.blobID) }, "under '\(path)'")
                #expect(try await source.blobs(entries.map(\.blobID)) == files.map(\.contents), "under '\(path)'")
            }
            #expect(!(try await source.entries(at: head, under: "", matching: { _ in true }).map(\.path).contains("link.yaml")))
            let old = try await source.entries(at: CommitID(hex: history.first), under: "apps", matching: { _ in true })
            #expect(try await source.blobs(old.map(\.blobID)).map { String(decoding: $0, as: UTF8.self) } == ["db: 1\n", "web: 1\n"])
            #expect(try await source.blobs([]).isEmpty)
            let missing = await #expect(throws: CapstanError.self) {
                try await source.blobs([ObjectID(hex: String(repeating: "ab", count: 20))])
            }
            #expect(missing?.code == .notFound)
            let nowhere = await #expect(throws: CapstanError.self) { try await source.entries(at: head, under: "nowhere", matching: { _ in true }) }
            #expect(nowhere?.code == .notFound)
        }
    }

    @Test(arguments: GitSourceKind.allCases)
    func treeIDsChangeOnlyWhereFilesChanged(kind: GitSourceKind) async throws {
        try await GitFixture.with { fixture in
            let history = try await Self.history(fixture)
            let source = kind.make(fixture)
            try await source.fetch()
            let first = CommitID(hex: history.first)
            let second = CommitID(hex: history.second)
            #expect(try await source.treeID(at: first, path: "jobs") == source.treeID(at: second, path: "jobs"))
            #expect(try await source.treeID(at: first, path: "apps/web.yaml") == source.treeID(at: second, path: "apps/web.yaml"))
            #expect(try await source.treeID(at: first, path: "apps") != source.treeID(at: second, path: "apps"))
            #expect(try await source.treeID(at: first, path: "") != source.treeID(at: second, path: ""))
            #expect(try await source.treeID(at: second, path: "apps")?.hex == (try await fixture.git("rev-parse", "main:apps")))
            #expect(try await source.treeID(at: second, path: "missing") == nil)
        }
    }

    @Test(arguments: GitSourceKind.allCases)
    func remoteHeadSeesNewCommitsBeforeAFetch(kind: GitSourceKind) async throws {
        try await GitFixture.with { fixture in
            let history = try await Self.history(fixture)
            let source = kind.make(fixture)
            #expect(try await source.remoteHead(ref: "main")?.hex == history.second)
            #expect(try await source.remoteHead(ref: "HEAD")?.hex == history.second)
            #expect(try await source.remoteHead(ref: "v1")?.hex == history.first)
            #expect(try await source.remoteHead(ref: "refs/heads/feature")?.hex == history.feature)
            #expect(try await source.remoteHead(ref: "gone") == nil)
            try await source.fetch()
            try fixture.write("apps/web.yaml", "web: 3\n")
            let third = try await fixture.commit("third")
            #expect(try await source.remoteHead(ref: "main")?.hex == third)
            #expect(try await source.resolve("main").hex == history.second)
            try await source.fetch()
            #expect(try await source.resolve("main").hex == third)
        }
    }

    @Test(arguments: GitSourceKind.allCases)
    func fetchPrunesDeletedBranchesAndReusesTheCache(kind: GitSourceKind) async throws {
        try await GitFixture.with { fixture in
            _ = try await Self.history(fixture)
            try await kind.make(fixture).fetch()
            try await fixture.git("branch", "-D", "feature")
            // A new source over the same cache directory opens it instead of starting again.
            let source = kind.make(fixture)
            try await source.fetch()
            await #expect(throws: CapstanError.self) { try await source.resolve("feature") }
            #expect(try await source.resolve("main").hex == (try await fixture.git("rev-parse", "main")))
        }
    }

    @Test(arguments: GitSourceKind.allCases)
    func changesNameOnlyTheFilesThatDiffer(kind: GitSourceKind) async throws {
        try await GitFixture.with { fixture in
            let history = try await Self.history(fixture)
            try fixture.write("apps/cache.yaml", "cache: 1\n")
            try FileManager.default.removeItem(atPath: fixture.path + "/apps/web.yaml")
            try fixture.write("jobs/migrate.yaml", "migrate: 2\n")
            try fixture.write("docs/notes.md", "notes\n")
            let third = CommitID(hex: try await fixture.commit("third"))
            let source = kind.make(fixture)
            try await source.fetch()
            let first = CommitID(hex: history.first)
            let second = CommitID(hex: history.second)
            let yaml: @Sendable (String) -> Bool = { $0.hasSuffix(".yaml") }

            #expect(try await source.changes(from: first, to: second, under: "", matching: yaml).map(\.description) == ["modified apps/db.yaml"])
            let changes = try await source.changes(from: second, to: third, under: "", matching: yaml)
            #expect(changes.map(\.description) == ["added apps/cache.yaml", "deleted apps/web.yaml", "modified jobs/migrate.yaml"])
            #expect(changes[1].oldBlobID?.hex == (try await fixture.git("rev-parse", "\(history.second):apps/web.yaml")))
            #expect(changes[1].newBlobID == nil)
            #expect(try await source.changes(from: second, to: third, under: "apps", matching: yaml).map(\.path) == ["apps/cache.yaml", "apps/web.yaml"])
            #expect(try await source.changes(from: third, to: third, under: "", matching: { _ in true }).isEmpty)
            // No previous commit: everything is new.
            #expect(try await source.changes(from: nil, to: first, under: "jobs", matching: yaml).map(\.description) == ["added jobs/migrate.yaml"])
            // A sub-path that appears only in the new commit.
            #expect(try await source.changes(from: second, to: third, under: "docs", matching: { _ in true }).map(\.description) == ["added docs/notes.md"])
            await #expect(throws: CapstanError.self) { try await source.changes(from: first, to: third, under: "nowhere", matching: yaml) }
        }
    }

    @Test func readsBeforeAFetchFailWithAPrecondition() async throws {
        try await GitFixture.with { fixture in
            let source = LibGit2Source(remote: GitRemote(url: fixture.path), cachePath: fixture.cachePath)
            await #expect(throws: CapstanError.self) { try await source.resolve("main") }
            let withToken = LibGit2Source(remote: GitRemote(url: "https://x@example.invalid/r.git", credentials: .token("t")), cachePath: fixture.cachePath)
            #expect(withToken.remote.description == "https://example.invalid/r.git")
            await #expect(throws: CapstanError.self) { try await withToken.fetch() }
        }
    }

    static func history(_ fixture: GitFixture) async throws -> History {
        try fixture.write("apps/web.yaml", "web: 1\n")
        try fixture.write("apps/db.yaml", "db: 1\n")
        try fixture.write("jobs/migrate.yaml", "migrate: 1\n")
        try fixture.write("README.md", "# demo\n")
        try FileManager.default.createSymbolicLink(atPath: fixture.path + "/link.yaml", withDestinationPath: "apps/web.yaml")
        let first = try await fixture.commit("first")
        try await fixture.git("tag", "-a", "v1", "-m", "v1")
        try await fixture.git("tag", "v1-light")
        try await fixture.git("checkout", "-q", "-b", "feature")
        try fixture.write("apps/web.yaml", "web: feature\n")
        let feature = try await fixture.commit("feature")
        try await fixture.git("checkout", "-q", "main")
        try fixture.write("apps/db.yaml", "db: 2\n")
        let second = try await fixture.commit("second")
        return History(first: first, feature: feature, second: second)
    }
}

/// Forwards every requirement except ``GitSource/changes(from:to:under:matching:)``, so that the
/// protocol's default implementation runs the conformance suite too.
struct ForwardingSource: GitSource {
    let base: LibGit2Source
    init(_ base: LibGit2Source) { self.base = base }
    var remote: GitRemote { base.remote }
    func fetch() async throws { try await base.fetch() }
    func resolve(_ revision: String) async throws -> CommitID { try await base.resolve(revision) }
    func files(at commit: CommitID, under path: String, matching include: @Sendable (String) -> Bool) async throws -> [GitFile] {
        try await base.files(at: commit, under: path, matching: include)
    }
    func treeID(at commit: CommitID, path: String) async throws -> ObjectID? { try await base.treeID(at: commit, path: path) }
    func blobs(_ ids: [ObjectID]) async throws -> [Data] { try await base.blobs(ids) }
    func remoteHead(ref: String) async throws -> CommitID? { try await base.remoteHead(ref: ref) }
}
