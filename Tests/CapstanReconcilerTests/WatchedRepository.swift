import CapstanCore
import CapstanGit
import Foundation

/// A scratch git repository made with the git CLI for the watcher tests, and a bare cache path;
/// deleted by ``with(_:)`` afterwards.
struct WatchedRepository {
    let directory: String
    var path: String { directory + "/origin" }
    var cachePath: String { directory + "/cache.git" }

    static func with<T>(_ body: (WatchedRepository) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-watch-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try await body(WatchedRepository(directory: directory))
    }

    /// Creates the repository (branch main) with one commit; returns it.
    @discardableResult
    func create() async throws -> CommitID {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try await git("init", "-q", "-b", "main")
        return try await commit("apps/web.yaml", "web: 1\n")
    }

    /// Writes one file and commits it; returns the commit.
    @discardableResult
    func commit(_ file: String, _ text: String) async throws -> CommitID {
        let url = URL(fileURLWithPath: path).appendingPathComponent(file)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        try await git("add", "-A")
        try await git("commit", "-q", "-m", "change \(file)")
        return CommitID(hex: try await git("rev-parse", "HEAD"))
    }

    /// Runs git in the repository (output to a file, exit awaited) and returns its trimmed output.
    @discardableResult
    func git(_ arguments: String...) async throws -> String {
        let outputPath = directory + "/git-\(UUID().uuidString.prefix(8)).out"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", path, "-c", "user.email=test@capstan.invalid", "-c", "user.name=Capstan Test",
                             "-c", "commit.gpgsign=false"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["HOME"] = directory
        process.environment = environment
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        try output.close()
        guard process.terminationStatus == 0 else {
            throw CapstanError(.internal, "git \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
        return String(decoding: try Data(contentsOf: URL(fileURLWithPath: outputPath)), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A ``GitSource`` that counts the calls the watcher and the loader make, over a real libgit2 source.
actor CountingSource: GitSource {
    nonisolated let base: LibGit2Source
    private(set) var fetches = 0
    private(set) var remoteHeads = 0
    /// The blob names asked of ``blobs(_:)``, one list per call.
    private(set) var blobReads: [[ObjectID]] = []

    init(_ base: LibGit2Source) { self.base = base }

    nonisolated var remote: GitRemote { base.remote }
    func fetch() async throws {
        fetches += 1
        try await base.fetch()
    }
    func resolve(_ revision: String) async throws -> CommitID { try await base.resolve(revision) }
    func files(at commit: CommitID, under path: String, matching include: @Sendable (String) -> Bool) async throws -> [GitFile] {
        try await base.files(at: commit, under: path, matching: include)
    }
    func treeID(at commit: CommitID, path: String) async throws -> ObjectID? { try await base.treeID(at: commit, path: path) }
    func blobs(_ ids: [ObjectID]) async throws -> [Data] {
        blobReads.append(ids)
        return try await base.blobs(ids)
    }
    func remoteHead(ref: String) async throws -> CommitID? {
        remoteHeads += 1
        return try await base.remoteHead(ref: ref)
    }
}
