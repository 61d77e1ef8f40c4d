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
        try fixture.git("init", "-q", "-b", "main")
        try fixture.git("config", "user.email", "test@capstan.invalid")
        try fixture.git("config", "user.name", "Capstan Test")
        try fixture.git("config", "commit.gpgsign", "false")
        return try await body(fixture)
    }

    /// Runs git in the repository and returns its trimmed standard output.
    @discardableResult
    func git(_ arguments: String...) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", path] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["HOME"] = directory.path
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "git", code: Int(process.terminationStatus), userInfo: [NSLocalizedDescriptionKey: "git \(arguments) failed"])
        }
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
    func commit(_ message: String) throws -> String {
        try git("add", "-A")
        try git("commit", "-q", "-m", message)
        return try git("rev-parse", "HEAD")
    }
}
