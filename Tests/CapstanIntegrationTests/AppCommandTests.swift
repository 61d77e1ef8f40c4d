import CapstanAPI
import CapstanCore
import CapstanReconciler
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// `capstan app list|get`, `capstan wait`, `capstan sync`, `capstan history` of an unknown app and `capstan
    /// completion`, run as a user runs them against `capstan reconcile`, with `CAPSTAN_RECONCILER` set once.
    @Suite("capstan app, wait and sync", .serialized)
    struct AppCommandTests {
        static func capstan(_ arguments: [String], reconciler: HostPort) async throws -> DiffCommandTests.Run {
            try await DiffCommandTests.run(["/usr/bin/env", "CAPSTAN_RECONCILER=http://\(reconciler)", CapstanBinary.path] + arguments)
        }

        @Test("app list/get show the app and its tasks; wait exits 0 when healthy at HEAD and 3 with the reason when it Failed; sync fetches now")
        func appWaitAndSync() async throws {
            try await GitOpsFixture.with { f in
                try await f.commit(["web.yaml": GitOpsFixture.app("web", instances: 2)])
                // A long poll interval: only `capstan sync` makes the reconciler see a new commit within the test.
                try await f.startReconciler(interval: "1h")
                let waited = try await Self.capstan(["wait", "web", "--healthy", "--timeout", "60s"], reconciler: f.api)
                #expect(waited.status == 0, "\(waited.stdout) \(waited.stderr)")
                #expect(waited.stdout.contains("web is Synced and healthy at \(String(try await f.headCommit().prefix(12)))"), "\(waited.stdout)")

                let list = try await Self.capstan(["app", "list"], reconciler: f.api)
                #expect(list.status == 0 && list.stdout.contains("web") && list.stdout.contains("Synced") && list.stdout.contains("2/2/2"), "\(list.stdout)")
                let json = try await Self.capstan(["app", "list", "--output", "json"], reconciler: f.api)
                let apps = try ReconcilerJSON.decode([AppStatus].self, from: Data(json.stdout.utf8))
                #expect(apps.map(\.name) == ["web"])

                let tasks = try await f.tasks(of: "web")
                let get = try await Self.capstan(["app", "get", "web", "--master", f.cluster.master.description], reconciler: f.api)
                #expect(get.status == 0, "\(get.stderr)")
                for task in tasks { #expect(get.stdout.contains(task.taskID.value), "\(get.stdout)") }
                #expect(get.stdout.contains("TASK_RUNNING") && get.stdout.contains("recent history") && get.stdout.contains("created"), "\(get.stdout)")
                let unknown = try await Self.capstan(["app", "get", "nope", "--master", f.cluster.master.description], reconciler: f.api)
                #expect(unknown.status == 1 && unknown.stderr.contains("no app named 'nope'"), "\(unknown.stderr)")
                let history = try await Self.capstan(["history", "nope"], reconciler: f.api)
                #expect(history.status == 1 && history.stderr.contains("no app named 'nope'"), "\(history.stderr)")

                // A new commit, fetched at once through `capstan sync`: an app that never stays up Fails at its deadline.
                try await f.commit([
                    "web.yaml": GitOpsFixture.app("web", instances: 2, env: ["MODE": "two"]),
                    "bad.yaml": GitOpsFixture.app("bad", instances: 1, command: "exit 3",
                        // A health check that never passes: a task in its instant between RUNNING and FAILED is never healthy.
                        extra: "\n  update: {progressDeadline: 3s}\n  backoff: {delay: 100ms}\n  health: {command: \"false\", interval: 1s}"),
                ], "two")
                let sync = try await Self.capstan(["sync", "web"], reconciler: f.api)
                #expect(sync.status == 0 && sync.stdout.contains("sync asked"), "\(sync.stdout) \(sync.stderr)")
                let rolled = try await Self.capstan(["wait", "web", "--timeout", "60s"], reconciler: f.api)
                #expect(rolled.status == 0, "the synced commit was not applied: \(rolled.stderr)")
                let failed = try await Self.capstan(["wait", "bad", "--healthy", "--timeout", "60s"], reconciler: f.api)
                #expect(failed.status == 3 && failed.stderr.contains("bad"), "\(failed.status) \(failed.stderr)")
                let short = try await Self.capstan(["wait", "nope", "--timeout", "2s"], reconciler: f.api)
                #expect(short.status == 1 && short.stderr.contains("no app named 'nope'"), "\(short.stderr)")
            }
        }

        @Test("completion prints a script for bash, zsh and fish, and names an unknown shell")
        func completion() async throws {
            for shell in ["bash", "zsh", "fish"] {
                let run = try await DiffCommandTests.run([CapstanBinary.path, "completion", shell])
                #expect(run.status == 0 && run.stdout.contains("capstan") && run.stdout.contains("diff"), "\(shell): \(run.stderr)")
            }
            let bad = try await DiffCommandTests.run([CapstanBinary.path, "completion", "tcsh"])
            #expect(bad.status != 0 && bad.stderr.contains("'tcsh' is not a shell"), "\(bad.stderr)")
        }
    }
}
