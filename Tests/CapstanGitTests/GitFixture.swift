import Foundation

/// A scratch git repository made with the git CLI, deleted by ``with(_:)`` afterwards.
struct GitFixture {
    let directory: URL

    var path: String { directory.appendingPathComponent("origin").path }
    var cachePath: String { directory.appendingPathComponent("cache.git").path }

    static func with<T>(_ body: (GitFixture) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-git-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("origin"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = GitFixture(directory: directory)
        try await fixture.git("init", "-q", "-b", "main")
        try await fixture.git("config", "user.email", "test@capstan.invalid")
        try await fixture.git("config", "user.name", "Capstan Test")
        try await fixture.git("config", "commit.gpgsign", "false")
        return try await body(fixture)
    }

    /// Runs git in the repository and returns its trimmed standard output.
    ///
    /// Output goes to a file, not a pipe (a pipe's write end can leak into a child another test forks
    /// meanwhile, and reading to EOF would hang), and the exit is awaited rather than blocked on.
    @discardableResult
    func git(_ arguments: String...) async throws -> String {
        let outputPath = directory.appendingPathComponent("git-\(UUID().uuidString.prefix(8)).out").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", path] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["HOME"] = directory.path
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
            throw NSError(domain: "git", code: Int(process.terminationStatus), userInfo: [NSLocalizedDescriptionKey: "git \(arguments) failed"])
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: outputPath))
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes a file (creating its directories) relative to the repository root.
    func write(_ relative: String, _ text: String) throws {
        let url = URL(fileURLWithPath: path).appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// Adds everything and commits; returns the new commit's name.
    @discardableResult
    func commit(_ message: String) async throws -> String {
        try await git("add", "-A")
        try await git("commit", "-q", "-m", message)
        return try await git("rev-parse", "HEAD")
    }
}
