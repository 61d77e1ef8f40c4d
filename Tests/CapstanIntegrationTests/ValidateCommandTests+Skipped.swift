import CapstanTestSupport
import Foundation
import Testing

extension ValidateCommandTests {
    static let deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec: {replicas: 3}

        """
    static let compose = """
        services:
          web: {image: nginx}

        """

    @Test("At a repository root, other tools' YAML is listed as skipped, not as errors; the exit status is the manifests' own")
    func foreignDocumentsAreSkipped() async throws {
        try await Self.withScratch { dir in
            try FileManager.default.createDirectory(atPath: dir + "/k8s", withIntermediateDirectories: true)
            try Self.web.write(toFile: dir + "/apps/web.yaml", atomically: true, encoding: .utf8)
            // A Capstan manifest and a Kubernetes one in the same file: only the second is skipped.
            try (Self.migrate + "---\n" + Self.deployment).write(toFile: dir + "/apps/migrate.yaml", atomically: true, encoding: .utf8)
            try Self.deployment.write(toFile: dir + "/k8s/deploy.yaml", atomically: true, encoding: .utf8)
            try Self.compose.write(toFile: dir + "/docker-compose.yml", atomically: true, encoding: .utf8)
            let run = try await Self.capstan(["validate", dir])
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output == """
                skipped: \(dir)/apps/migrate.yaml:6 (apiVersion apps/v1, kind Deployment: not a Capstan manifest)
                skipped: \(dir)/docker-compose.yml:1 (apiVersion (none), kind (none): not a Capstan manifest)
                skipped: \(dir)/k8s/deploy.yaml:1 (apiVersion apps/v1, kind Deployment: not a Capstan manifest)
                valid: 1 app, 1 job

                """)

            // Skipped documents do not hide errors: a broken Capstan manifest still exits 1, and capstan/v2 is still an error.
            try Self.web.replacingOccurrences(of: "capstan/v1", with: "capstan/v2").write(toFile: dir + "/apps/web.yaml", atomically: true, encoding: .utf8)
            let broken = try await Self.capstan(["validate", dir])
            #expect(broken.status == 1, "\(broken.output)")
            #expect(broken.output.contains("apiVersion: unsupported apiVersion 'capstan/v2'"), "\(broken.output)")
            #expect(broken.output.contains("skipped: \(dir)/k8s/deploy.yaml:1"), "\(broken.output)")

            // The same skip through git (the loader the reconciler and capstan diff use).
            try Self.web.write(toFile: dir + "/apps/web.yaml", atomically: true, encoding: .utf8)
            try await Self.git(dir, "init", "-q", "-b", "main")
            try await Self.git(dir, "add", "-A")
            try await Self.git(dir, "commit", "-q", "-m", "mixed")
            let fromGit = try await Self.capstan(["validate", "--repo", dir])
            #expect(fromGit.status == 0, "\(fromGit.output)")
            #expect(fromGit.output.contains("skipped: k8s/deploy.yaml:1 (apiVersion apps/v1, kind Deployment: not a Capstan manifest)\n"), "\(fromGit.output)")
            let diff = try await Self.capstan(["diff", "--repo", dir, "--path", "", "--against", "HEAD"])
            #expect(diff.status == 0, "capstan diff reads the same repository without errors: \(diff.output)")
        }
    }
}
