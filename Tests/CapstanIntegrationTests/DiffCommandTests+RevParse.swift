import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd.DiffCommandTests {
    /// The plan's header names the commit a revision resolved to: the first 12 hex digits after `against NAME (`.
    static func resolvedAgainst(_ run: Run, _ name: String) -> String? {
        guard let range = run.stdout.range(of: "against \(name) (") else { return nil }
        return String(run.stdout[range.upperBound...].prefix(12))
    }

    @Test("In a clone whose main is ahead of origin/main, --against names resolve exactly as git rev-parse resolves them")
    func cloneAheadOfOrigin() async throws {
        try await Self.withRepository { upstream, _, _ in
            let clone = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-diff-clone-\(UUID().uuidString.prefix(8))").path
            defer { try? FileManager.default.removeItem(atPath: clone) }
            try await Self.git(upstream, "clone", "-q", upstream, clone)
            // An unpushed commit: main is one ahead of origin/main (it scales web from 3 to 5).
            try Self.web(instances: 5, mode: "prod").write(toFile: clone + "/Manifests/web.yaml", atomically: true, encoding: .utf8)
            try await Self.git(clone, "commit", "-q", "-am", "unpushed")
            // A tag and a branch of one name at different commits: git prefers the tag (refs/tags before refs/heads).
            try await Self.git(clone, "branch", "twin", "HEAD~1")
            try await Self.git(clone, "tag", "twin", "HEAD")

            let head = String(try await Self.git(clone, "rev-parse", "HEAD").prefix(12))
            let origin = String(try await Self.git(clone, "rev-parse", "origin/main").prefix(12))
            #expect(head != origin)

            // The unpushed commit is a change against origin/main (not "No changes" from reading the local main).
            let tracking = try await Self.diff(["--repo", clone, "--against", "origin/main", "--no-color"])
            #expect(tracking.status == 2, "\(tracking.stdout)\(tracking.stderr)")
            #expect(tracking.stdout.hasPrefix("Plan for \(head) against origin/main (\(origin))\n"))
            #expect(tracking.stdout.contains("~ scale    web  3 -> 5 instances\n"))
            // And from inside the clone (the repository of the current directory), as the CI script runs it.
            let inside = try await Self.diff(["--against", "origin/main", "--no-color"], in: clone)
            #expect(inside.stdout == tracking.stdout)

            for name in ["origin/main", "origin/HEAD", "remotes/origin/main", "refs/remotes/origin/main", "main", "HEAD~1", "twin", "v1", "main^{commit}", origin] {
                let expected = String(try await Self.git(clone, "rev-parse", "--verify", "\(name)^{commit}").prefix(12))
                let run = try await Self.diff(["--repo", clone, "--against", name, "--no-color"])
                #expect(run.status == 0 || run.status == 2, "\(name): \(run.stderr)")
                #expect(Self.resolvedAgainst(run, name) == expected, "--against \(name): \(run.stdout.prefix(120)) (git rev-parse: \(expected))")
            }
            // --revision resolves the same way.
            let revision = try await Self.diff(["--repo", clone, "--revision", "origin/main", "--against", "main", "--no-color"])
            #expect(revision.stdout.hasPrefix("Plan for \(origin) against main (\(head))\n"), "\(revision.stdout)\(revision.stderr)")
        }
    }
}
