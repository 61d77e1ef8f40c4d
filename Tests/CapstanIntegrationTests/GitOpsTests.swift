import AsyncHTTPClient
import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanReconciler
import CapstanTestSupport
import Crypto
import Foundation
import Testing

extension EndToEnd {
    /// The reconciler as users drive it: commits to a real git repository, `capstan reconcile` against a real master
    /// and agent, observed through the master's operator API and the reconciler's status API.
    @Suite("GitOps reconciler", .serialized)
    struct GitOpsTests {
        @Test("commit → instances run; scale keeps tasks; env change rolls within minHealthy/maxSurge; delete prunes")
        func deployScaleRollAndPrune() async throws {
            try await GitOpsFixture.with { f in
                try await f.commit(["apps/web.yaml": GitOpsFixture.app("web", instances: 2), "apps/keep.yaml": GitOpsFixture.app("keep", instances: 1)])
                try await f.startReconciler()
                try await f.waitSynced("web")
                let first = try await f.tasks(of: "web")
                #expect(first.count == 2)
                #expect(first.allSatisfy { $0.state == .taskRunning })
                let head = String(try await f.headCommit().prefix(12))
                #expect(first.allSatisfy { GitOpsFixture.label($0, TaskLabel.commit) == head })

                // Scale up: the two running tasks stay, one is added.
                try await f.commit(["apps/web.yaml": GitOpsFixture.app("web", instances: 3)], "scale")
                try await f.waitSynced("web")
                let scaled = try await f.tasks(of: "web")
                #expect(scaled.count == 3)
                #expect(Set(first.map(\.taskID)).isSubset(of: Set(scaled.map(\.taskID))), "scaling restarted tasks")

                // Rolling update: never fewer than 3 running (minHealthy 100%), never more than 4 (maxSurge 1).
                try await f.commit(["apps/web.yaml": GitOpsFixture.app("web", instances: 3, env: ["MODE": "blue"])], "env")
                let newHead = String(try await f.headCommit().prefix(12))
                var samples = 0
                try await eventually("rolling update to \(newHead)", timeout: .seconds(20), interval: .milliseconds(40)) {
                    let tasks = try await f.tasks(of: "web")
                    let running = tasks.filter { $0.state == .taskRunning }
                    samples += 1
                    #expect(running.count >= 3, "only \(running.count) running during the update")
                    #expect(tasks.count <= 4, "\(tasks.count) live tasks: above instances + maxSurge")
                    return running.count == 3 && tasks.count == 3
                        && running.allSatisfy { GitOpsFixture.label($0, TaskLabel.commit) == newHead }
                }
                #expect(samples > 1)
                try await f.waitSynced("web")
                let history = try await ReconcilerClient(baseURL: "http://\(f.api)").history(app: "web", limit: 20).entries
                #expect(history.contains { $0.event == .updated && $0.message.contains("spec.env.MODE") })

                // Scale down, then delete the file: pruned.
                try await f.commit(["apps/web.yaml": GitOpsFixture.app("web", instances: 1, env: ["MODE": "blue"])], "down")
                try await f.waitSynced("web")
                #expect(try await f.tasks(of: "web").count == 1)
                try await f.commit(["apps/web.yaml": nil], "delete")
                try await eventually("web pruned", timeout: .seconds(10)) { try await f.tasks(of: "web").isEmpty }
                #expect(try await f.app("web") == nil)
                #expect(try await f.tasks(of: "keep").count == 1, "an app still in git was touched")
            }
        }

        @Test("a task killed from outside is replaced within seconds")
        func selfHeal() async throws {
            try await GitOpsFixture.with { f in
                try await f.commit(["web.yaml": GitOpsFixture.app("web", instances: 2)])
                try await f.startReconciler()
                try await f.waitSynced("web")
                let victim = try #require(try await f.tasks(of: "web").first)
                let containers = try await OperatorClient(f.cluster.agents[0].endpoint).agentCall(.getContainers)
                let container = try #require(containers.getContainers?.containers.first { $0.executorID?.value == victim.taskID.value })
                let pid = try #require(container.containerStatus?.executorPID)
                let killedAt = ContinuousClock.now
                #expect(kill(pid_t(pid), SIGKILL) == 0)
                try await eventually("a replacement runs", timeout: .seconds(10), interval: .milliseconds(50)) {
                    let tasks = try await f.tasks(of: "web").filter { $0.state == .taskRunning }
                    return tasks.count == 2 && !tasks.contains { $0.taskID == victim.taskID }
                }
                let took = ContinuousClock.now - killedAt
                #expect(took < .seconds(5), "replacement took \(took)")
            }
        }

        @Test("an invalid commit changes nothing and shows file:line:col; reverting converges again")
        func invalidCommitThenRevert() async throws {
            try await GitOpsFixture.with { f in
                try await f.commit(["web.yaml": GitOpsFixture.app("web", instances: 2)])
                try await f.startReconciler()
                try await f.waitSynced("web")
                let before = Set(try await f.tasks(of: "web").map(\.taskID))
                let good = String(try await f.headCommit().prefix(12))

                try await f.commit(["web.yaml": GitOpsFixture.app("web", instances: 2).replacingOccurrences(of: "instances: 2", with: "instances: lots")], "break")
                let bad = String(try await f.headCommit().prefix(12))
                try await eventually("the invalid commit is reported") { try await f.status().headCommit == bad }
                let status = try await f.status()
                #expect(status.appliedCommit == good)
                #expect(status.error?.contains("invalid") == true)
                #expect(status.diagnostics.contains { $0.contains("web.yaml:6:") && $0.contains("spec.instances") }, "\(status.diagnostics)")
                try await Task.sleep(for: .milliseconds(500))
                #expect(Set(try await f.tasks(of: "web").map(\.taskID)) == before, "an invalid commit changed tasks")

                let cli = try await ValidateCommandTests.capstan(["status", "--master", f.cluster.master.description])
                #expect(cli.output.contains("web.yaml:6:"), "\(cli.output)")

                try await ValidateCommandTests.git(f.repo, "revert", "--no-edit", "HEAD")
                try await f.waitSynced("web")
                let after = try await f.status()
                #expect(after.error == nil)
                #expect(after.diagnostics.isEmpty)
                #expect(Set(try await f.tasks(of: "web").map(\.taskID)) == before, "reverting to the same spec restarted tasks")
            }
        }

        static let healthyServer = "exec python3 -m http.server $PORT0 --bind 127.0.0.1"
        /// What a python3 server needs to start within a 1 s grace period on a loaded machine, under enforced limits.
        static let serverResources = "{cpus: 0.5, mem: 64Mi}"
        /// Manifest lines for a TCP health check on the `http` port and an update strategy.
        static func health(deadline: String = "4s", autoRevert: Bool = false) -> String {
            """

              network: {ports: [{name: http}]}
              health: {tcp: {port: http}, interval: 1s, timeout: 1s, gracePeriod: 1s, maxFailures: 2}
              update: {minHealthy: 100%, maxSurge: 1, progressDeadline: \(deadline)\(autoRevert ? ", autoRevert: true" : "")}
            """
        }

        @Test("a never-healthy update fails at its progress deadline; with autoRevert it rolls back")
        func neverHealthyUpdateFailsThenAutoReverts() async throws {
            try await GitOpsFixture.with { f in
                let healthy = GitOpsFixture.app(
                    "web", instances: 2, command: Self.healthyServer, extra: Self.health(), resources: Self.serverResources)
                try await f.commit(["web.yaml": healthy])
                try await f.startReconciler()
                try await f.waitSynced("web", timeout: .seconds(30))
                let good = Set(try await f.tasks(of: "web").map(\.taskID))

                // The new version never listens: it stays unhealthy, the deadline passes, the rollout fails.
                let broken = GitOpsFixture.app("web", instances: 2, command: "exec sleep 600", extra: Self.health())
                try await f.commit(["web.yaml": broken], "broken")
                let started = ContinuousClock.now
                try await eventually("web Failed", timeout: .seconds(20)) { try await f.app("web")?.phase == .failed }
                #expect(ContinuousClock.now - started < .seconds(15))
                #expect(try await f.app("web")?.reason?.contains("no progress") == true)
                try await eventually("the unhealthy new task is gone") {
                    Set(try await f.tasks(of: "web").map(\.taskID)) == good
                }

                // With autoRevert the same failure rolls the app back to the last converged commit.
                let reverting = GitOpsFixture.app("web", instances: 2, command: "exec sleep 601", extra: Self.health(autoRevert: true))
                try await f.commit(["web.yaml": reverting], "broken again, with autoRevert")
                try await eventually("web reverted", timeout: .seconds(20)) {
                    try await f.app("web")?.reason?.contains("reverted") == true
                }
                let history = try await ReconcilerClient(baseURL: "http://\(f.api)").history(app: "web", limit: 50).entries
                #expect(history.contains { $0.event == .reverted })
                #expect(history.contains { $0.event == .failed })
                try await Task.sleep(for: .seconds(1))
                #expect(Set(try await f.tasks(of: "web").map(\.taskID)) == good, "the converged tasks were replaced")
            }
        }

        @Test("a reconciler restarted mid-rollout finishes it without extra or lost tasks")
        func restartMidRollout() async throws {
            try await GitOpsFixture.with { f in
                let slow = "sleep 1; exec python3 -m http.server $PORT0 --bind 127.0.0.1"
                let v1 = GitOpsFixture.app(
                    "web", instances: 3, command: slow, env: ["V": "1"], extra: Self.health(deadline: "60s"), resources: Self.serverResources)
                try await f.commit(["web.yaml": v1])
                try await f.startReconciler()
                try await f.waitSynced("web", timeout: .seconds(30))

                try await f.commit(["web.yaml": v1.replacingOccurrences(of: "V: 1", with: "V: 2")], "v2")
                let head = String(try await f.headCommit().prefix(12))
                try await eventually("the rollout started") {
                    try await f.tasks(of: "web").contains { GitOpsFixture.label($0, TaskLabel.commit) == head }
                }
                await f.crashReconciler()
                try await f.startReconciler()
                var newTasks = Set<TaskID>()
                try await eventually("rollout finished after the restart", timeout: .seconds(40), interval: .milliseconds(50)) {
                    let tasks = try await f.tasks(of: "web")
                    #expect(tasks.count <= 4, "\(tasks.count) live tasks: above instances + maxSurge")
                    for task in tasks where GitOpsFixture.label(task, TaskLabel.commit) == head { newTasks.insert(task.taskID) }
                    return tasks.count == 3 && tasks.allSatisfy { GitOpsFixture.label($0, TaskLabel.commit) == head && $0.state == .taskRunning }
                }
                try await f.waitSynced("web")
                let final = try await f.tasks(of: "web")
                print(
                    "fault reconciler-sigkill-mid-rollout: instances 3, running at the new commit \(final.count), new tasks launched "
                        + "\(newTasks.count), extra \(max(0, newTasks.count - 3)), missing \(max(0, 3 - final.count))")
                #expect(newTasks.count == 3, "launched \(newTasks.count) new tasks for 3 instances")
            }
        }

        @Test("after an operator TEARDOWN of its framework the reconciler subscribes anew and relaunches the apps")
        func operatorTeardownIsHealed() async throws {
            try await GitOpsFixture.with { f in
                try await f.commit(["web.yaml": GitOpsFixture.app("web", instances: 2)])
                try await f.startReconciler()
                try await f.waitSynced("web")
                let operatorAPI = OperatorClient(f.cluster.master)
                let before = try #require(try await operatorAPI.call(.getFrameworks).getFrameworks?.frameworks
                    .first { $0.frameworkInfo.name == ReconcilerModule.frameworkName }?.frameworkInfo.id)
                let oldTasks = Set(try await f.tasks(of: "web").map(\.taskID))

                let reply = try await operatorAPI.raw(path: "/api/v1", body: #"{"type":"TEARDOWN","teardown":{"framework_id":{"value":"\#(before.value)"}}}"#)
                #expect(reply.status == 200, "\(reply.text)")
                let unknown = try await operatorAPI.raw(path: "/api/v1", body: #"{"type":"TEARDOWN","teardown":{"framework_id":{"value":"nope"}}}"#)
                #expect(unknown.status == 404)

                try await eventually("web runs again under a new framework", timeout: .seconds(15)) {
                    let tasks = try await f.tasks(of: "web").filter { $0.state == .taskRunning }
                    return tasks.count == 2 && Set(tasks.map(\.taskID)).isDisjoint(with: oldTasks)
                        && tasks.allSatisfy { $0.frameworkID != before }
                }
                try await f.waitSynced("web")
            }
        }

        @Test("an app that names an image runs in a container from it")
        func imageApp() async throws {
            guard Prerequisites.met("an image app needs root and Debian's busybox-static", missing: ImageTaskTests.prerequisitesMissing) else {
                return
            }
            try await GitOpsFixture.with(busybox: true) { f in
                let manifest = """
                    apiVersion: capstan/v1
                    kind: App
                    metadata: {name: boxed}
                    spec:
                      image: docker://busybox:e2e
                      command: ["/bin/sh", "-c", "echo pid1=$(cat /proc/1/comm) host=$(hostname); exec sleep 600"]
                      instances: 2
                      resources: {cpus: 0.1, mem: 32Mi}

                    """
                try await f.commit(["boxed.yaml": manifest])
                try await f.startReconciler()
                try await f.waitSynced("boxed", timeout: .seconds(30))
                let tasks = try await f.tasks(of: "boxed")
                #expect(tasks.count == 2)
                #expect(tasks.allSatisfy { $0.container?.mesos?.image?.docker?.name == "busybox:e2e" })
                for task in tasks {
                    let output = try RegistryTaskTests.stdout(of: task.taskID.value, agentWorkDir: f.cluster.agents[0].workDir)
                    #expect(output.contains("pid1=capstan-init"), "PID 1 is not the container's own: \(output)")
                    #expect(!output.contains("host=\(ProcessInfo.processInfo.hostName)\n"), "the task saw the host's hostname: \(output)")
                }
            }
        }

        @Test("webhook: a bad signature is 401 and fetches nothing; a good one syncs at once")
        func webhookSignatures() async throws {
            try await GitOpsFixture.with { f in
                try await f.commit(["web.yaml": GitOpsFixture.app("web", instances: 1)])
                try await f.startReconciler(interval: "1h")
                try await f.waitSynced("web")
                try await f.commit(["web.yaml": GitOpsFixture.app("web", instances: 2)], "scale")
                let head = String(try await f.headCommit().prefix(12))
                let body = #"{"ref":"refs/heads/main","after":"\#(try await f.headCommit())"}"#
                let url = "http://\(f.api)/api/v1/webhook"
                let poster = JSONPoster()

                let unsigned = try await poster.postRaw(body, to: url, headers: [("X-GitHub-Event", "push")])
                #expect(unsigned.status == 401)
                let forged = try await poster.postRaw(body, to: url, headers: [("X-GitHub-Event", "push"), ("X-Hub-Signature-256", "sha256=" + String(repeating: "0", count: 64))])
                #expect(forged.status == 401)
                try await Task.sleep(for: .milliseconds(800))
                #expect(try await f.status().headCommit != head, "a rejected webhook fetched")

                let mac = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data("s3cret".utf8)))
                let signature = "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
                let sent = ContinuousClock.now
                let good = try await poster.postRaw(body, to: url, headers: [("X-GitHub-Event", "push"), ("X-Hub-Signature-256", signature)])
                #expect(good.status == 202)
                try await f.waitSynced("web", timeout: .seconds(10))
                #expect(try await f.tasks(of: "web").count == 2)
                #expect(ContinuousClock.now - sent < .seconds(5))
            }
        }
    }
}
