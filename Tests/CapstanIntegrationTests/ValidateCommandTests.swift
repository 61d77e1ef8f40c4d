import CapstanTestSupport
import Foundation
import Testing

/// `capstan validate` through the built binary: on a directory, and on a git repository read through libgit2.
@Suite("capstan validate", .serialized)
struct ValidateCommandTests {
    struct Run {
        var status: Int32
        var output: String
    }

    /// Runs `capstan ARGS` and returns its exit status and standard output (standard error appended).
    ///
    /// Output goes to files, not pipes: a pipe's write end can leak into a child that another test forks
    /// at the same moment, and reading it to EOF would then hang. The exit is awaited, not blocked on.
    static func capstan(_ arguments: [String]) async throws -> Run {
        try await capstanOrGit([CapstanBinary.path] + arguments)
    }

    /// Runs `argv` (a path, or a name found through /usr/bin/env).
    static func capstanOrGit(_ argv: [String]) async throws -> Run {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-validate-run-\(UUID().uuidString.prefix(8))").path
        defer {
            try? FileManager.default.removeItem(atPath: base + ".out")
            try? FileManager.default.removeItem(atPath: base + ".err")
        }
        FileManager.default.createFile(atPath: base + ".out", contents: nil)
        FileManager.default.createFile(atPath: base + ".err", contents: nil)
        let stdout = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
        let stderr = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0].hasPrefix("/") ? argv[0] : "/usr/bin/env")
        process.arguments = argv[0].hasPrefix("/") ? Array(argv.dropFirst()) : argv
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        try stdout.close()
        try stderr.close()
        let out = try Data(contentsOf: URL(fileURLWithPath: base + ".out"))
        let err = try Data(contentsOf: URL(fileURLWithPath: base + ".err"))
        return Run(status: process.terminationStatus, output: String(decoding: out + err, as: UTF8.self))
    }

    static func git(_ directory: String, _ arguments: String...) async throws {
        let run = try await capstanOrGit(["git", "-C", directory, "-c", "user.name=Capstan Test", "-c", "user.email=test@capstan.invalid"] + arguments)
        #expect(run.status == 0, "git \(arguments): \(run.output)")
    }

    static let web = """
        apiVersion: capstan/v1
        kind: App
        metadata: {name: web}
        spec:
          command: [/bin/true]
          resources: {cpus: 0.5, mem: 128Mi}
          dependsOn: [migrate]

        """
    static let migrate = """
        apiVersion: capstan/v1
        kind: Job
        metadata: {name: migrate}
        spec: {command: "echo migrated"}

        """

    static func withScratch(_ body: (String) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-validate-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir + "/apps", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await body(dir)
    }

    @Test func validDirectoryExitsZeroWithASummary() async throws {
        try await Self.withScratch { dir in
            try Self.web.write(toFile: dir + "/apps/web.yaml", atomically: true, encoding: .utf8)
            try Self.migrate.write(toFile: dir + "/apps/migrate.yml", atomically: true, encoding: .utf8)
            let run = try await Self.capstan(["validate", dir])
            #expect(run.status == 0)
            #expect(run.output == "valid: 1 app, 1 job\n")
        }
    }

    @Test func invalidDirectoryPrintsEveryErrorAndExitsOne() async throws {
        try await Self.withScratch { dir in
            try Self.web.replacingOccurrences(of: "128Mi", with: "12XB").write(toFile: dir + "/apps/web.yaml", atomically: true, encoding: .utf8)
            try (Self.migrate + "---\n" + Self.migrate).write(toFile: dir + "/apps/migrate.yaml", atomically: true, encoding: .utf8)
            let run = try await Self.capstan(["validate", dir])
            #expect(run.status == 1)
            #expect(run.output == """
                \(dir)/apps/migrate.yaml:8:18: metadata.name: duplicate name 'migrate': already defined at \(dir)/apps/migrate.yaml:3:18
                \(dir)/apps/web.yaml:6:31: spec.resources.mem: '12XB' is not a size (use e.g. 128Mi, 1Gi)
                2 errors in 2 files (valid: 0 apps, 2 jobs)

                """)
        }
    }

    @Test func outputJSONCarriesTheSameErrorsAndSkippedDocuments() async throws {
        try await Self.withScratch { dir in
            try Self.web.replacingOccurrences(of: "128Mi", with: "12XB").write(toFile: dir + "/apps/web.yaml", atomically: true, encoding: .utf8)
            try Self.migrate.write(toFile: dir + "/apps/migrate.yaml", atomically: true, encoding: .utf8)
            try "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: other}\n".write(toFile: dir + "/apps/k8s.yaml", atomically: true, encoding: .utf8)
            let run = try await Self.capstan(["validate", dir, "--output", "json"])
            #expect(run.status == 1)
            let report = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any], "\(run.output)")
            #expect(report["valid"] as? Bool == false)
            #expect(report["jobs"] as? Int == 1)
            let errors = report["errors"] as? [[String: Any]] ?? []
            #expect(errors.count == 1)
            #expect(errors.first?["file"] as? String == dir + "/apps/web.yaml")
            #expect(errors.first?["line"] as? Int == 6 && errors.first?["column"] as? Int == 31)
            #expect(errors.first?["field"] as? String == "spec.resources.mem")
            let skipped = report["skipped"] as? [[String: Any]] ?? []
            #expect(skipped.count == 1 && skipped.first?["kind"] as? String == "Deployment", "\(skipped)")
        }
    }

    /// Issue 9, item 6: a 10 KB manifest nested 5,000 levels overflowed the stack of `capstan validate`.
    @Test func aManifestNested5000LevelsIsAnErrorNotACrash() async throws {
        try await Self.withScratch { dir in
            try Self.web.write(toFile: dir + "/apps/web.yaml", atomically: true, encoding: .utf8)
            let deep = String(repeating: "{a: ", count: 5000) + "1" + String(repeating: "}", count: 5000) + "\n"
            try deep.write(toFile: dir + "/apps/deep.yaml", atomically: true, encoding: .utf8)
            let run = try await Self.capstan(["validate", dir])
            #expect(run.status == 1)
            #expect(run.output.hasPrefix("""
                \(dir)/apps/deep.yaml:1:257: this mapping is nested more than 64 levels deep (the limit); manifests are never that deep

                """), "\(run.output)")
        }
    }

    @Test func gitRepositoryIsReadThroughLibgit2AtARevision() async throws {
        try await Self.withScratch { dir in
            try await Self.git(dir, "init", "-q", "-b", "main")
            try FileManager.default.createDirectory(atPath: dir + "/deploy", withIntermediateDirectories: true)
            try Self.web.write(toFile: dir + "/deploy/web.yaml", atomically: true, encoding: .utf8)
            try Self.migrate.write(toFile: dir + "/deploy/migrate.yaml", atomically: true, encoding: .utf8)
            try await Self.git(dir, "add", "-A")
            try await Self.git(dir, "commit", "-q", "-m", "good")
            try await Self.git(dir, "tag", "good")
            try Self.web.replacingOccurrences(of: "cpus: 0.5", with: "cpus: lots").write(toFile: dir + "/deploy/web.yaml", atomically: true, encoding: .utf8)
            try await Self.git(dir, "commit", "-q", "-a", "-m", "bad")
            // Break the working tree too: validate --repo reads commits, not the checkout.
            try "not: [yaml".write(toFile: dir + "/deploy/web.yaml", atomically: true, encoding: .utf8)

            let good = try await Self.capstan(["validate", "--repo", dir, "--revision", "good", "--path", "deploy"])
            #expect(good.status == 0)
            #expect(good.output == "valid: 1 app, 1 job\n")

            let bad = try await Self.capstan(["validate", "--repo", "file://" + dir, "--revision", "main", "--path", "deploy"])
            #expect(bad.status == 1)
            #expect(bad.output == """
                deploy/web.yaml:6:21: spec.resources.cpus: expected a number, got a string
                1 error in 1 file (valid: 0 apps, 1 job)

                """)

            let missing = try await Self.capstan(["validate", "--repo", dir, "--revision", "no-such-branch"])
            #expect(missing.status == 1)
            #expect(missing.output.contains("no branch, tag or commit 'no-such-branch'"))
        }
    }

    @Test func printsTheCommittedSchema() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let committed = try String(contentsOf: root.appendingPathComponent("Manifests/schema/capstan-v1.schema.json"), encoding: .utf8)
        let run = try await Self.capstan(["validate", "--print-schema"])
        #expect(run.status == 0)
        #expect(run.output == committed)
    }

    @Test func theDemoRepositoryValidates() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let run = try await Self.capstan(["validate", root.appendingPathComponent("Manifests").path])
        #expect(run.status == 0)
        #expect(run.output.hasPrefix("valid: "))
    }
}
