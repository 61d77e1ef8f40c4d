import CapstanAPI
import CapstanCore
import CapstanReconciler
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// The promise of `capstan diff` in a pull request: what it prints is what the daemon does.
    @Suite("GitOps: the diff is the sync", .serialized)
    struct GitOpsPlanTests {
        static func job(_ name: String) -> String {
            """
            apiVersion: capstan/v1
            kind: Job
            metadata: {name: \(name)}
            spec:
              command: ["/bin/sh", "-c", "exit 0"]
              resources: {cpus: 0.1, mem: 16Mi}

            """
        }

        @Test("capstan diff --master, run right before a commit is applied, lists the creates, updates, scales and deletes the reconciler's history records for that sync")
        func diffBeforeASyncEqualsItsHistory() async throws {
            try await GitOpsFixture.with { f in
                try await f.commit([
                    "apps/update.yaml": GitOpsFixture.app("update", instances: 2),
                    "apps/scale.yaml": GitOpsFixture.app("scale", instances: 1),
                    "apps/prune.yaml": GitOpsFixture.app("prune", instances: 1),
                    "apps/same.yaml": GitOpsFixture.app("same", instances: 1),
                    "jobs/once.yaml": Self.job("once"),
                ], "v1")
                try await f.startReconciler()
                for app in ["update", "scale", "prune", "same", "once"] { try await f.waitSynced(app, timeout: .seconds(30)) }

                // The reconciler stops; v2 is committed; capstan diff plans it against the live master; the
                // reconciler starts again and applies v2 against the same cluster.
                await f.crashReconciler()
                try await f.commit([
                    "apps/update.yaml": GitOpsFixture.app("update", instances: 2, env: ["MODE": "v2"]),
                    "apps/scale.yaml": GitOpsFixture.app("scale", instances: 3),
                    "apps/prune.yaml": nil,
                    "apps/create.yaml": GitOpsFixture.app("create", instances: 2),
                ], "v2")
                let head = String(try await f.headCommit().prefix(12))
                let run = try await DiffCommandTests.diff(["--repo", f.repo, "--master", f.cluster.master.description, "--output", "json"])
                #expect(run.status == 2, "\(run.stdout)\(run.stderr)")
                let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout)\(run.stderr)")
                let items = try #require(object["items"] as? [[String: Any]])
                var planned: [String: String] = [:]
                for item in items where item["action"] as? String != "unchanged" {
                    planned[item["name"] as? String ?? "?"] = item["action"] as? String
                }
                #expect(planned == ["create": "create", "update": "update", "scale": "scale", "prune": "delete"], "\(run.stdout)")

                try await f.startReconciler()
                try await f.waitSynced("create", timeout: .seconds(30))
                let client = ReconcilerClient(baseURL: "http://\(f.api)")
                let events: [String: HistoryEvent] = ["create": .created, "update": .updated, "scale": .scaled, "delete": .deleted]
                var recorded: [String: String] = [:]
                for app in ["create", "update", "scale", "prune", "same", "once"] {
                    for entry in try await client.history(app: app, limit: 50).entries where entry.commit == head {
                        if let action = events.first(where: { $0.value == entry.event })?.key {
                            #expect(recorded[app] == nil, "\(app): two plan entries for one sync")
                            recorded[app] = action
                        }
                    }
                }
                #expect(recorded == planned, "history of \(head): \(recorded); capstan diff: \(planned)")
            }
        }
    }
}
