import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanReconciler
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// Persistent volumes declared in a manifest, driven from git through `capstan reconcile` against a master and two
    /// agents: the instance keeps its data and its agent across a crash and a rolling update, the master refuses to
    /// destroy the volume while it is in use, removing it from git keeps the data, and `destroy: confirm` deletes it.
    @Suite("Persistent volumes from manifests", .serialized)
    struct PersistentVolumeGitOpsTests {
        static func db(env: String, volumes: String = "\n  volumes:\n    - {path: data, persistent: {size: 32Mi}}") -> String {
            // Each start appends its commit to the volume; the sandbox is the working directory, the volume is at data/.
            GitOpsFixture.app("db", instances: 1, command: "echo $CAPSTAN_COMMIT >> $MESOS_SANDBOX/data/log; exec sleep 600", extra: "\n  env: {MODE: \(env)}" + volumes)
        }

        static func lines(_ path: String) -> [String] {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        @Test("a persistent volume keeps its data and its agent across a crash and a rolling update; retained off git; destroyed on destroy: confirm")
        func volumeLifecycleFromGit() async throws {
            try await TestCluster().run { cluster in
                try await cluster.startMaster()
                for index in 0..<2 {
                    _ = try await cluster.startAgent(resources: "cpus:2;mem:1024;disk:1024;ports:[\(31000 + index * 100)-\(31049 + index * 100)]")
                }
                try await eventually("two agents registered") { try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents.count == 2 }
                let f = try await GitOpsFixture(cluster: cluster)
                do {
                    try await Self.lifecycle(f, cluster)
                } catch {
                    let log = f.reconciler?.log ?? ""
                    await f.reconciler?.stop()
                    throw TestFailure("\(error)\n--- reconciler (last 4000 chars)\n\(log.suffix(4000))")
                }
                await f.reconciler?.stop()
            }
        }

        static func lifecycle(_ f: GitOpsFixture, _ cluster: TestCluster) async throws {
            try await f.commit(["db.yaml": db(env: "one")])
            try await f.startReconciler()
            try await f.waitSynced("db", timeout: .seconds(30))
            let first = try #require(try await f.tasks(of: "db").first)
            let agentID = first.agentID
            let volumeDir = "/volumes/roles/capstan/capstan.db.0.data"
            let holders = cluster.agents.filter { FileManager.default.fileExists(atPath: $0.workDir + volumeDir) }
            #expect(holders.count == 1, "the volume exists on exactly one agent")
            let agent = try #require(holders.first)
            let data = agent.workDir + volumeDir
            #expect(GitOpsFixture.label(first, TaskLabel.slot) == "0")
            let head1 = String(try await f.headCommit().prefix(12))
            try await eventually("the first start wrote to the volume") { lines(data + "/log") == [head1] }
            let volumes = try #require(try await f.status().volumes)
            #expect(volumes.count == 1 && volumes[0].id == "capstan.db.0.data" && volumes[0].agent == agentID.value
                && volumes[0].action == "keep" && volumes[0].usedBy == first.taskID.value, "\(volumes)")
            let table = try await DiffCommandTests.run([CapstanBinary.path, "status", "--reconciler", "http://\(f.api)"])
            #expect(table.stdout.contains("capstan.db.0.data") && table.stdout.contains(agentID.value), "\(table.stdout) \(table.stderr)")
            // The master's dashboard lists the volume on its agent.
            let summary = try await OperatorClient(f.cluster.master).get("/api/v1/dashboard/summary")
            #expect(summary.status == 200 && summary.text.contains("capstan.db.0.data"), "\(summary.text.prefix(2000))")

            // The master refuses to destroy a volume a task uses.
            let volumeJSON = try #require(volumes.first.map { _ in
                try String(decoding: MesosJSON.encode(first.resources.first { $0.disk?.persistence != nil }!), as: UTF8.self)
            })
            let refused = try await OperatorClient(cluster.master).raw(
                path: "/api/v1",
                body: #"{"type":"DESTROY_VOLUMES","destroy_volumes":{"agent_id":{"value":"\#(agentID.value)"},"volumes":[\#(volumeJSON)]}}"#)
            #expect(refused.status >= 400, "DESTROY of a volume in use: \(refused.status) \(refused.text)")
            #expect(FileManager.default.fileExists(atPath: data + "/log"))

            // A crash: the replacement runs on the same agent, on the same data.
            let containers = try await OperatorClient(agent.endpoint).agentCall(.getContainers)
            let container = try #require(containers.getContainers?.containers.first { $0.executorID?.value == first.taskID.value })
            #expect(kill(pid_t(try #require(container.containerStatus?.executorPID)), SIGKILL) == 0)
            try await eventually("a replacement runs", timeout: .seconds(30)) {
                let tasks = try await f.tasks(of: "db").filter { $0.state == .taskRunning }
                return tasks.count == 1 && tasks[0].taskID != first.taskID
            }
            let second = try #require(try await f.tasks(of: "db").first)
            #expect(second.agentID == agentID, "the replacement left its volume's agent")
            try await eventually("the replacement appended to the kept data") { lines(data + "/log") == [head1, head1] }

            // A rolling update from git: kill first (never two tasks on one volume), same agent, same data.
            try await f.commit(["db.yaml": db(env: "two")], "update")
            let head2 = String(try await f.headCommit().prefix(12))
            try await eventually("rolled to \(head2)", timeout: .seconds(30), interval: .milliseconds(50)) {
                let tasks = try await f.tasks(of: "db")
                #expect(tasks.count <= 1, "two live tasks of an app whose instance holds a volume: \(tasks.map(\.taskID))")
                return tasks.count == 1 && tasks[0].state == .taskRunning && GitOpsFixture.label(tasks[0], TaskLabel.commit) == head2
            }
            try await f.waitSynced("db", timeout: .seconds(30))
            #expect(try await f.tasks(of: "db").first?.agentID == agentID)
            try await eventually("the updated task appended to the kept data") { lines(data + "/log") == [head1, head1, head2] }

            // Off git: the task no longer mounts it, but the data stays and diff and status say so.
            try await f.commit(["db.yaml": db(env: "two", volumes: "")], "drop the volume")
            try await f.waitSynced("db", timeout: .seconds(30))
            let retained = try #require(try await f.status().volumes?.first)
            #expect(retained.action == "retain" && retained.usedBy == nil, "\(retained)")
            #expect(lines(data + "/log") == [head1, head1, head2], "removing the volume from git deleted data")
            let diff = try await DiffCommandTests.diff(["--repo", f.repo, "--master", cluster.master.description])
            #expect(diff.status == 0 && diff.stdout.contains("! retain   capstan.db.0.data"), "\(diff.status) \(diff.stdout) \(diff.stderr)")

            // destroy: confirm, explicit in git: DESTROY and UNRESERVE; the data and the reservation are gone.
            let unmounted = try #require(try await f.tasks(of: "db").first?.taskID)
            try await f.commit(["db.yaml": db(env: "two", volumes: "\n  volumes:\n    - {path: data, persistent: {size: 32Mi, destroy: confirm}}")], "destroy")
            let planned = try await DiffCommandTests.diff(["--repo", f.repo, "--master", cluster.master.description])
            #expect([0, 2].contains(planned.status))
            try await eventually("the volume was destroyed", timeout: .seconds(30)) { !FileManager.default.fileExists(atPath: data) }
            try await eventually("the reservation is gone", timeout: .seconds(10)) {
                let agents = try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents ?? []
                return agents.allSatisfy { $0.totalResources.allSatisfy { $0.reservation == nil && $0.role != "capstan" } }
            }
            try await eventually("status shows no volume") { try await f.status().volumes == nil }
            try await f.waitSynced("db", timeout: .seconds(30))
            #expect(try await f.tasks(of: "db").map(\.taskID) == [unmounted], "marking a volume no task mounts restarted the task")
            let after = try await DiffCommandTests.diff(["--repo", f.repo, "--master", cluster.master.description])
            #expect(after.status == 0, "\(after.stdout)")
        }
    }
}
