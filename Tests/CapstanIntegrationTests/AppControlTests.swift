import CapstanAPI
import CapstanCore
import CapstanReconciler
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// `capstan suspend`, `resume` and `rollback` against a real master, agent and `capstan reconcile` on a git
    /// repository, with `capstan status`, `app get` and `diff` showing what the reconciler does.
    @Suite("capstan suspend, resume and rollback", .serialized)
    struct AppControlTests {
        static func capstan(_ arguments: [String], _ f: GitOpsFixture) async throws -> DiffCommandTests.Run {
            try await AppCommandTests.capstan(arguments, reconciler: f.api)
        }

        /// Waits until the reconciler has applied the repository's HEAD.
        static func waitApplied(_ f: GitOpsFixture) async throws {
            let head = String(try await f.headCommit().prefix(12))
            try await eventually("HEAD \(head) applied", timeout: .seconds(30)) { try await f.status().appliedCommit == head }
        }

        @Test("A suspended app keeps its tasks while git scales it (also across a reconciler restart); diff shows it held; resume converges")
        func suspendAndResume() async throws {
            try await GitOpsFixture.with { f in
                try await f.commit(["web.yaml": GitOpsFixture.app("web", instances: 2), "api.yaml": GitOpsFixture.app("api", instances: 1)])
                try await f.startReconciler()
                try await f.waitSynced("web")
                let before = Set(try await f.tasks(of: "web").map(\.taskID))
                #expect(before.count == 2)

                let suspend = try await Self.capstan(["suspend", "web"], f)
                #expect(suspend.status == 0 && suspend.stdout.contains("web is suspended"), "\(suspend.stdout) \(suspend.stderr)")
                let closed = ClosedPort()
                let unreachable = try await DiffCommandTests.run([CapstanBinary.path, "resume", "web", "--reconciler", "http://127.0.0.1:\(closed.port)"])
                #expect(unreachable.status == 1, "\(unreachable.stderr)")
                #expect(unreachable.stderr == "capstan resume: cannot reach the reconciler at http://127.0.0.1:\(closed.port): connection refused\n")
                let unknown = try await Self.capstan(["suspend", "nope"], f)
                #expect(unknown.status == 1 && unknown.stderr.contains("no app named 'nope'"), "\(unknown.stderr)")
                #expect(try await f.app("web")?.suspended == true)

                // Git scales web to 3 and api to 2: api follows, web does not.
                try await f.commit(["web.yaml": GitOpsFixture.app("web", instances: 3), "api.yaml": GitOpsFixture.app("api", instances: 2)], "scale")
                try await Self.waitApplied(f)
                try await eventually("api scaled", timeout: .seconds(30)) { try await f.tasks(of: "api").count == 2 }
                try await Task.sleep(for: .seconds(2))
                #expect(Set(try await f.tasks(of: "web").map(\.taskID)) == before, "a suspended app's tasks are left as they are")

                let status = try await Self.capstan(["status"], f)
                #expect(status.stdout.contains("(suspended)") && status.stdout.contains("suspended (capstan resume web"), "\(status.stdout)")
                let list = try await Self.capstan(["app", "list"], f)
                #expect(list.stdout.contains("(suspended)"), "\(list.stdout)")
                let get = try await Self.capstan(["app", "get", "web", "--master", f.cluster.master.description], f)
                #expect(get.stdout.contains("suspended: yes"), "\(get.stdout)")
                #expect(get.stdout.contains("  suspended  web is suspended"), "the history records the suspension: \(get.stdout)")

                // capstan diff plans as the reconciler does: web held (no change), everything else converged.
                let diff = try await Self.capstan(["diff", "--repo", f.repo, "--master", f.cluster.master.description, "--no-color"], f)
                #expect(diff.status == 0, "\(diff.stdout) \(diff.stderr)")
                #expect(diff.stdout.contains("! suspended web  2 instances left as they are\n"), "\(diff.stdout)")
                #expect(diff.stdout.contains("note: suspended: would scale (2 -> 3 instances)"), "\(diff.stdout)")
                #expect(diff.stdout.contains("(2 unchanged, 1 suspended)"), "\(diff.stdout)")

                // The suspension survives a reconciler restart.
                await f.crashReconciler()
                try await f.startReconciler()
                try await Self.waitApplied(f)
                #expect(try await f.app("web")?.suspended == true)
                try await Task.sleep(for: .seconds(2))
                #expect(Set(try await f.tasks(of: "web").map(\.taskID)) == before, "still held after the restart")

                let resume = try await Self.capstan(["resume", "web"], f)
                #expect(resume.status == 0 && resume.stdout.contains("web is reconciled again"), "\(resume.stdout) \(resume.stderr)")
                try await f.waitSynced("web", timeout: .seconds(30))
                #expect(try await f.tasks(of: "web").count == 3)
                #expect(try await f.app("web")?.suspended == false)
                let after = try await Self.capstan(["diff", "--repo", f.repo, "--master", f.cluster.master.description, "--no-color"], f)
                #expect(after.status == 0 && !after.stdout.contains("suspended"), "\(after.stdout) \(after.stderr)")
            }
        }

        /// The distinct `capstan.commit` labels of an app's running tasks, when it runs `count` of them.
        static func runningCommits(_ f: GitOpsFixture, _ app: String, count: Int) async throws -> Set<String>? {
            let tasks = try await f.tasks(of: app)
            guard tasks.count == count, tasks.allSatisfy({ $0.state == .taskRunning }) else { return nil }
            return Set(tasks.compactMap { GitOpsFixture.label($0, TaskLabel.commit) })
        }

        @Test("rollback pins an app to its previous converged commit (others follow HEAD); a commit that changes it lifts the pin")
        func rollbackAndLift() async throws {
            try await GitOpsFixture.with { f in
                try await f.commit(["web.yaml": GitOpsFixture.app("web", instances: 2, env: ["MODE": "v1"]), "api.yaml": GitOpsFixture.app("api", instances: 1)], "v1")
                let v1 = String(try await f.headCommit().prefix(12))
                try await f.startReconciler()
                try await f.waitSynced("web")
                try await f.commit(["web.yaml": GitOpsFixture.app("web", instances: 2, env: ["MODE": "v2"])], "v2")
                let v2 = String(try await f.headCommit().prefix(12))
                try await f.waitSynced("web", timeout: .seconds(30))
                try await eventually("web runs v2", timeout: .seconds(30)) { try await Self.runningCommits(f, "web", count: 2) == [v2] }

                let rollback = try await Self.capstan(["rollback", "web"], f)
                #expect(rollback.status == 0 && rollback.stdout.contains("pinned to \(v1)"), "\(rollback.stdout) \(rollback.stderr)")
                try await eventually("web runs v1 again", timeout: .seconds(30)) { try await Self.runningCommits(f, "web", count: 2) == [v1] }
                try await eventually("web Synced at its pin", timeout: .seconds(30)) {
                    let app = try await f.app("web")
                    return app?.phase == .synced && app?.pinned == v1 && app?.desiredCommit == v1
                }
                let envs = try await f.tasks(of: "web").compactMap { $0.labels?.labels.first { $0.key == TaskLabel.spec }?.value }
                #expect(envs.count == 2)
                #expect(try await f.app("api")?.pinned == nil)
                let status = try await Self.capstan(["status"], f)
                #expect(status.stdout.contains("(pinned \(v1))"), "\(status.stdout)")
                let get = try await Self.capstan(["app", "get", "web", "--master", f.cluster.master.description], f)
                #expect(get.stdout.contains("pinned:    \(v1)"), "\(get.stdout)")
                // diff reads the pinned app at its pin, as the reconciler does: nothing to change.
                let diff = try await Self.capstan(["diff", "--repo", f.repo, "--master", f.cluster.master.description, "--no-color"], f)
                #expect(diff.status == 0, "\(diff.stdout) \(diff.stderr)")
                #expect(diff.stdout.contains("pinned: \(v1)"), "\(diff.stdout)")

                // A commit that leaves web alone keeps the pin; web never converged there, so it is no rollback target.
                try await f.commit(["api.yaml": GitOpsFixture.app("api", instances: 2)], "v3")
                let v3 = String(try await f.headCommit().prefix(12))
                try await Self.waitApplied(f)
                try await eventually("api scaled", timeout: .seconds(30)) { try await f.tasks(of: "api").count == 2 }
                #expect(try await f.app("web")?.pinned == v1)
                #expect(try await Self.runningCommits(f, "web", count: 2) == [v1])
                let never = try await Self.capstan(["rollback", "web", v3], f)
                #expect(never.status == 1 && never.stderr.contains("web never converged at \(v3)"), "\(never.stderr)")
                let missing = try await Self.capstan(["rollback", "nope"], f)
                #expect(missing.status == 1 && missing.stderr.contains("no app named 'nope'"), "\(missing.stderr)")

                // A commit that changes web's manifest lifts the pin: web follows HEAD.
                try await f.commit(["web.yaml": GitOpsFixture.app("web", instances: 2, env: ["MODE": "v4"])], "v4")
                let v4 = String(try await f.headCommit().prefix(12))
                try await eventually("web runs v4", timeout: .seconds(30)) { try await Self.runningCommits(f, "web", count: 2) == [v4] }
                try await f.waitSynced("web", timeout: .seconds(30))
                #expect(try await f.app("web")?.pinned == nil)
                let history = try await f.status()
                #expect(history.apps.first { $0.name == "web" }?.pinned == nil)
                let events = try await ReconcilerClient(baseURL: "http://\(f.api)").history(app: "web").entries.map(\.event)
                #expect(events.contains(.pinned) && events.contains(.unpinned), "\(events)")

                // An explicit converged commit, then --clear.
                let explicit = try await Self.capstan(["rollback", "web", v2], f)
                #expect(explicit.status == 0 && explicit.stdout.contains("pinned to \(v2)"), "\(explicit.stdout) \(explicit.stderr)")
                try await eventually("web runs v2 again", timeout: .seconds(30)) { try await Self.runningCommits(f, "web", count: 2) == [v2] }
                let clear = try await Self.capstan(["rollback", "web", "--clear"], f)
                #expect(clear.status == 0 && clear.stdout.contains("follows HEAD"), "\(clear.stdout) \(clear.stderr)")
                try await eventually("web back at v4", timeout: .seconds(30)) { try await Self.runningCommits(f, "web", count: 2) == [v4] }
            }
        }
    }
}
