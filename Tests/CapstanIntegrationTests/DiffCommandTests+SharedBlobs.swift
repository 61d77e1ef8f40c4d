import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd.DiffCommandTests {
    static let worker = """
        apiVersion: capstan/v1
        kind: App
        metadata: {name: worker}
        spec: {command: [/bin/sleep, "600"], resources: {cpus: 0.1, mem: 16Mi}}

        """
    static let cache = """
        apiVersion: capstan/v1
        kind: App
        metadata: {name: cache}
        spec: {command: [/bin/sleep, "600"], resources: {cpus: 0.1, mem: 16Mi}}

        """
    static let notes = "# nothing is deployed from this file\n"

    /// Issue 10: the loader parses each distinct blob once (shared by both commits, or by two paths) and in
    /// parallel. The expected texts are what `capstan diff` printed before that change, on the same history.
    @Test("Against a revision sharing blobs (unchanged, renamed and copied files): the same plan and diagnostics as parsing every file")
    func againstARevisionSharingBlobs() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-diff-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir + "/Manifests/jobs", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/Manifests/team", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func write(_ path: String, _ text: String) throws {
            try text.write(toFile: dir + "/Manifests/" + path, atomically: true, encoding: .utf8)
        }
        try await Self.git(dir, "init", "-q", "-b", "main")
        try write("web.yaml", Self.web(instances: 2, mode: "dev"))
        try write("api.yml", Self.api)
        try write("jobs/migrate.yaml", Self.migrate)
        try write("worker.yaml", Self.worker)
        try write("notes.yaml", Self.notes)
        try await Self.git(dir, "add", "-A")
        try await Self.git(dir, "commit", "-q", "-m", "v1")
        try await Self.git(dir, "tag", "v1")
        // api, migrate and notes keep their blobs; worker's blob moves; notes' blob is also at a second path.
        try write("web.yaml", Self.web(instances: 3, mode: "prod"))
        try await Self.git(dir, "mv", "Manifests/worker.yaml", "Manifests/team/worker.yaml")
        try write("team/notes.yaml", Self.notes)
        try write("cache.yaml", Self.cache)
        try await Self.git(dir, "add", "-A")
        try await Self.git(dir, "commit", "-q", "-m", "v2")
        let v1 = String(try await Self.git(dir, "rev-parse", "v1").prefix(12))
        let head = String(try await Self.git(dir, "rev-parse", "HEAD").prefix(12))

        let forward = try await Self.diff(["--repo", dir, "--against", "v1"])
        #expect(forward.status == 2, "\(forward.stderr)")
        #expect(forward.stderr.isEmpty)
        #expect(forward.stdout == """
            Plan for \(head) against v1 (\(v1))

            + create   cache  1 instance
            ~ update   web    2 -> 3 instances, 2 to replace
                  spec.env.MODE: "dev" -> "prod"
                  spec.instances: 2 -> 3

            Plan: 1 to create, 1 to update, 0 to scale, 0 to delete, 3 unchanged.

            """)
        let back = try await Self.diff(["--repo", dir, "--revision", "v1", "--against", "main"])
        #expect(back.status == 2, "\(back.stderr)")
        #expect(back.stdout == """
            Plan for \(v1) against main (\(head))

            - delete   cache  1 instance
            ~ update   web    3 -> 2 instances, 3 to replace
                  spec.env.MODE: "prod" -> "dev"
                  spec.instances: 3 -> 2

            Plan: 0 to create, 1 to update, 0 to scale, 1 to delete, 3 unchanged.

            """)

        // One invalid blob at two paths, and one valid blob at two paths: every diagnostic names its own file.
        let bad = Self.web(instances: 3, mode: "prod").replacingOccurrences(of: "cpus: 0.5", with: "cpus: many")
        try write("bad.yaml", bad)
        try write("team/bad.yaml", bad)
        try write("team/web-copy.yaml", Self.web(instances: 3, mode: "prod"))
        try await Self.git(dir, "add", "-A")
        try await Self.git(dir, "commit", "-q", "-m", "bad")
        let broken = String(try await Self.git(dir, "rev-parse", "HEAD").prefix(12))
        let failed = try await Self.diff(["--repo", dir, "--against", "v1"])
        #expect(failed.status == 1)
        #expect(failed.stdout.isEmpty)
        #expect(failed.stderr == """
            Manifests/bad.yaml:8:21: spec.resources.cpus: expected a number, got a string
            Manifests/team/bad.yaml:8:21: spec.resources.cpus: expected a number, got a string
            Manifests/web.yaml:3:18: metadata.name: duplicate name 'web': already defined at Manifests/team/web-copy.yaml:3:18
            capstan diff: 3 errors in the manifests at HEAD (\(broken))

            """)
    }
}

extension EndToEnd.DiffCommandTests {
    @Test("capstan bench diff builds a two-commit repository, runs capstan diff between them and reports wall time and peak RSS")
    func benchDiffReportsTimeAndMemory() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-bench-diff-test-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let run = try await Self.run([CapstanBinary.path, "bench", "diff", "--apps", "120", "--changed", "12", "--iterations", "2", "--scratch", scratch])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("repository: 120 apps, 12 changed in the second commit"), "\(run.stdout)")
        #expect(run.stdout.contains("capstan diff: Plan: 0 to create, 12 to update, 0 to scale, 0 to delete, 108 unchanged."), "\(run.stdout)")
        let runs = run.stdout.split(separator: "\n").filter { $0.hasPrefix("capstan diff run ") }
        #expect(runs.count == 2, "\(run.stdout)")
        // The same plan through a file:// URL, fetched into a temporary cache first.
        #expect(run.stdout.contains("capstan diff --repo file://…: Plan: 0 to create, 12 to update, 0 to scale, 0 to delete, 108 unchanged."), "\(run.stdout)")
        #expect(run.stdout.split(separator: "\n").filter { $0.hasPrefix("capstan diff --repo file://… run ") }.count == 2, "\(run.stdout)")
        let summary = try #require(run.stdout.firstMatch(of: /capstan diff \(2 runs\): wall p50 ([0-9.]+) s, .* peak RSS max ([0-9.]+) MiB/), "\(run.stdout)")
        #expect((Double(summary.output.1) ?? 0) > 0)
        #expect((Double(summary.output.2) ?? 0) > 1, "the child's own peak RSS, in MiB")
        // The scratch directory given is kept, with the repository and its two commits.
        let log = try await Self.git(scratch + "/repo", "log", "--format=%s")
        #expect(log == "change 12 apps\n120 apps")
    }
}
