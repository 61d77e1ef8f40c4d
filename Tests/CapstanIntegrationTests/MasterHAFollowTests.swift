import CapstanAPI
import CapstanCore
import CapstanReconciler
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd.MasterHATests {
    @Test("Three masters on etcd, SIGKILL the leader: the reconciler (--master etcd://…) follows the new one, no task is lost, duplicated or restarted, and it keeps converging; status and diff follow too")
    func reconcilerFollowsTheLeader() async throws {
        try await Self.with { cluster in
            for _ in 0..<3 { try await cluster.startMaster() }
            let leader = try await cluster.electedLeader(within: .seconds(30))
            // The agent and the reconciler are told only where etcd is; the one-shot commands get the masters' list.
            let etcdAddress = "etcd://" + cluster.etcd.endpoint.dropFirst("http://".count) + "/capstan"
            _ = try await cluster.startAgent(master: etcdAddress)
            try await eventually("the agent registered", timeout: .seconds(20)) { try await cluster.activeAgents(on: leader).count == 1 }

            let repo = cluster.scratch + "/repo"
            try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
            try await ValidateCommandTests.git(repo, "init", "-q", "-b", "main")
            try await Self.commit(repo, "web.yaml", GitOpsFixture.app("web", instances: 2))

            let masterList = cluster.masters.map(\.address.description).joined(separator: ",")
            let listenFile = ListenFile.path(in: cluster.scratch, name: "reconciler")
            let reconciler = try CapstanProcess(
                arguments: [
                    "reconcile", "--master", etcdAddress, "--listen", "127.0.0.1:0", "--listen-file", listenFile,
                    "--work-dir", cluster.scratch + "/reconciler", "--repo", repo, "--branch", "main", "--interval", "300ms", "--log-level", "debug",
                ],
                logPath: cluster.scratch + "/reconciler.log")
            do {
                let api = try await ListenFile.address(at: listenFile, of: reconciler)
                let status = ReconcilerClient(baseURL: "http://\(api)")
                try await eventually("web Synced with 2 running tasks on the leader", timeout: .seconds(60)) {
                    let app = try await status.status().apps.first { $0.name == "web" }
                    let running = try await Self.running("web", on: leader)
                    return app?.phase == .synced && running.count == 2
                }
                let before = try await Self.running("web", on: leader)

                // One-shot commands find the leader through the list, or through etcd.
                let listed = try await EndToEnd.DiffCommandTests.run([CapstanBinary.path, "status", "--master", masterList])
                #expect(listed.status == 0 && listed.stdout.contains("web"), "\(listed.stdout) \(listed.stderr)")
                let planned = try await EndToEnd.DiffCommandTests.run([
                    CapstanBinary.path, "diff", "--repo", repo, "--against", "live", "--master", etcdAddress,
                ])
                #expect(planned.status == 0, "diff against the live cluster through etcd: \(planned.stdout) \(planned.stderr)")

                try #require(cluster.process(at: leader)).crash()
                let next = try await cluster.electedLeader(within: .seconds(Self.ttl + 10))
                #expect(next != leader)
                // The agent re-registers with the new leader and reports its tasks; the reconciler subscribes to it
                // again with its framework ID (failover), so nothing is killed or launched twice.
                try await eventually("the reconciler subscribed to the new leader, web Synced there", timeout: .seconds(60)) {
                    let frameworks = try await OperatorClient(next).call(.getFrameworks).getFrameworks?.frameworks ?? []
                    let connected = frameworks.contains { $0.frameworkInfo.name == ReconcilerModule.frameworkName && $0.connected }
                    let app = try await status.status().apps.first { $0.name == "web" }
                    return connected && app?.phase == .synced
                }
                let after = try await Self.running("web", on: next)
                print("fault etcd-leader-sigkill: agent and reconciler on etcd://, tasks before \(before.count), after \(after.count), lost \(before.subtracting(after).count), new \(after.subtracting(before).count)")
                #expect(after == before, "the same tasks run under the new leader: before \(before.sorted()), after \(after.sorted())")

                // It keeps converging under the new leader: a scale committed now is applied there.
                try await Self.commit(repo, "web.yaml", GitOpsFixture.app("web", instances: 3))
                try await eventually("web scaled to 3 under the new leader", timeout: .seconds(60)) {
                    try await Self.running("web", on: next).count == 3
                }
                let scaled = try await Self.running("web", on: next)
                #expect(scaled.isSuperset(of: before), "scaling up kept the original tasks")
                let again = try await EndToEnd.DiffCommandTests.run([CapstanBinary.path, "status", "--master", etcdAddress])
                #expect(again.status == 0 && again.stdout.contains("web"), "\(again.stdout) \(again.stderr)")
            } catch {
                print("--- reconciler log:\n\(reconciler.log.suffix(4000))")
                await reconciler.stop()
                throw error
            }
            await reconciler.stop()
        }
    }

    /// Writes `file` in `repo` and commits it.
    static func commit(_ repo: String, _ file: String, _ contents: String) async throws {
        try contents.write(toFile: repo + "/" + file, atomically: true, encoding: .utf8)
        try await ValidateCommandTests.git(repo, "add", file)
        try await ValidateCommandTests.git(repo, "commit", "-q", "-m", "\(file)")
    }

    /// The IDs of `app`'s running tasks on `master`.
    static func running(_ app: String, on master: HostPort) async throws -> Set<String> {
        let tasks = try await OperatorClient(master).call(.getTasks).getTasks?.tasks ?? []
        return Set(tasks.filter { task in
            task.state == .taskRunning && task.labels?.labels.contains { $0.key == TaskLabel.app && $0.value == app } == true
        }.map(\.taskID.value))
    }
}
