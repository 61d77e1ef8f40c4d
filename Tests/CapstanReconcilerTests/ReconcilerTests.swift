import CapstanAPI
import CapstanCore
import Foundation
import Logging
import Synchronization
import Testing

@testable import CapstanReconciler

/// Drives the reconciler's decisions directly with offers and status updates, as the master would send them.
@Suite("Reconciler") final class ReconcilerTests: @unchecked Sendable {
    let framework = FrameworkID("fw-1")
    /// Scratch directories of this test (each test gets its own instance), removed when it ends.
    private var directories: [String] = []

    deinit {
        for directory in directories { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// The reconcilers' clock: tests move it instead of sleeping past deadlines.
    let clock = TestClock()

    func makeReconciler(maxDeletions: Int? = nil) throws -> (Reconciler, HistoryStore, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-reconciler-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        directories.append(dir)
        let store = try HistoryStore(path: dir + "/history.sqlite", logger: Logger(label: "test"))
        let reconciler = Reconciler(
            configuration: ReconcilerConfiguration(master: HostPort(host: "127.0.0.1", port: 1), maxDeletions: maxDeletions),
            store: store, logger: Logger(label: "test"), clock: { [clock] in clock.now })
        return (reconciler, store, dir)
    }

    func app(_ name: AppName, instances: Int = 2, env: [String: String] = [:], minHealthy: InstanceAmount = .percent(100),
             maxSurge: InstanceAmount = .count(1), dependsOn: [AppName] = [], constraints: [Constraint] = [],
             ports: [PortSpec] = []) -> Workload {
        var spec = WorkloadSpec(command: ["sleep", "600"], env: env, instances: instances)
        spec.resources = ResourceRequest(cpus: 0.5, memMiB: 64)
        spec.update = UpdateStrategy(minHealthy: minHealthy, maxSurge: maxSurge)
        spec.dependsOn = dependsOn
        spec.constraints = constraints
        spec.network.ports = ports
        return Workload(kind: .app, name: name, spec: spec)
    }

    func offer(_ n: Int, agent: String = "agent-1", host: String = "host-1", resources: String = "cpus:8;mem:4096;ports:[31000-31099]") throws -> Offer {
        Offer(
            id: OfferID("offer-\(n)"), frameworkID: framework, agentID: AgentID(agent), hostname: host,
            resources: try Resources.parse(resources).mesos)
    }

    func launches(_ calls: [SchedulerCall]) -> [TaskInfo] {
        calls.filter { $0.type == .accept }.flatMap { $0.accept?.operations ?? [] }.flatMap { $0.launch?.taskInfos ?? [] }
    }

    func kills(_ calls: [SchedulerCall]) -> [TaskID] {
        calls.filter { $0.type == .kill }.compactMap { $0.kill?.taskID }
    }

    func running(_ r: Reconciler, _ tasks: [TaskInfo], healthy: Bool? = nil) async {
        for task in tasks {
            _ = await r.update(TaskStatus(taskID: task.taskID, state: .taskRunning, agentID: task.agentID, healthy: healthy))
        }
    }

    func label(_ task: TaskInfo, _ key: String) -> String? {
        task.labels?.labels.first { $0.key == key }?.value
    }

    @Test func launchesEveryInstanceWithItsLabelsAndConverges() async throws {
        let (r, store, _) = try makeReconciler()
        await r.seed(state: .init(), frameworkID: framework)
        let web = app("web", ports: [PortSpec(name: "http")])
        _ = await r.apply(DesiredState(commit: CommitID(hex: String(repeating: "a", count: 40)), workloads: [web]))
        let launched = launches(await r.offers([try offer(1)]))
        #expect(launched.count == 2)
        #expect(launched.allSatisfy { label($0, TaskLabel.app) == "web" && label($0, TaskLabel.spec) == web.templateLabel })
        #expect(launched.allSatisfy { label($0, TaskLabel.commit) == String(repeating: "a", count: 12) })
        let ports = launched.compactMap { $0.command?.environment?.variables.first { $0.name == "PORT_HTTP" }?.value }
        #expect(Set(ports).count == 2, "each instance gets its own agent port: \(ports)")
        #expect(await r.appStatuses().first?.phase == .progressing)

        await running(r, launched)
        _ = await r.tick()
        let status = try #require(await r.appStatuses().first)
        #expect(status.phase == .synced)
        #expect(status.healthyInstances == 2)
        #expect(try await store.lastConverged(app: "web")?.specLabel == web.templateLabel)
    }

    @Test func rollingUpdateNeverDropsBelowMinHealthyAndKillsOldOnlyAfterNewIsHealthy() async throws {
        let (r, _, _) = try makeReconciler()
        await r.seed(state: .init(), frameworkID: framework)
        _ = await r.apply(DesiredState(commit: "c1", workloads: [app("web", instances: 3)]))
        var live = launches(await r.offers([try offer(1)]))
        await running(r, live)
        _ = await r.tick()

        _ = await r.apply(DesiredState(commit: "c2", workloads: [app("web", instances: 3, env: ["MODE": "new"])]))
        var offerNumber = 2
        var rounds = 0
        while rounds < 20 {
            rounds += 1
            let offerCalls = await r.offers([try offer(offerNumber)])
            offerNumber += 1
            let started = launches(offerCalls)
            let killed = kills(offerCalls) + kills(await r.tick())
            #expect(live.count - killed.count + started.count <= 4, "never above instances + maxSurge")
            // New tasks come up healthy only on the next round: kills in this round must leave 3 healthy.
            live.removeAll { killed.contains($0.taskID) }
            let healthyLeft = live.count
            #expect(healthyLeft >= 3, "healthy instances dropped to \(healthyLeft)")
            for id in killed { _ = await r.update(TaskStatus(taskID: id, state: .taskKilled, agentID: AgentID("agent-1"))) }
            await running(r, started)
            live += started
            if await r.appStatuses().first?.phase == .synced { break }
        }
        let status = try #require(await r.appStatuses().first)
        #expect(status.phase == .synced)
        #expect(status.runningInstances == 3)
        #expect(live.count == 3)
        #expect(live.allSatisfy { $0.command?.environment?.variables.contains { $0.name == "MODE" } == true })
    }

    @Test func replacesATaskKilledFromOutside() async throws {
        let (r, _, _) = try makeReconciler()
        await r.seed(state: .init(), frameworkID: framework)
        _ = await r.apply(DesiredState(commit: "c1", workloads: [app("web")]))
        let launched = launches(await r.offers([try offer(1)]))
        await running(r, launched)
        _ = await r.tick()
        _ = await r.update(TaskStatus(taskID: launched[0].taskID, state: .taskKilled, agentID: launched[0].agentID))
        _ = await r.tick()
        let replacement = launches(await r.offers([try offer(2)]))
        #expect(replacement.count == 1)
    }

    @Test func failedTasksBackOffBeforeRelaunching() async throws {
        let (r, _, _) = try makeReconciler()
        await r.seed(state: .init(), frameworkID: framework)
        var web = app("web", instances: 1)
        web.spec.backoff = RestartBackoff(delay: .seconds(30), factor: 2, max: .seconds(60))
        _ = await r.apply(DesiredState(commit: "c1", workloads: [web]))
        let launched = launches(await r.offers([try offer(1)]))
        _ = await r.update(TaskStatus(taskID: launched[0].taskID, state: .taskFailed, message: "exit 1", agentID: launched[0].agentID))
        #expect(launches(await r.offers([try offer(2)])).isEmpty, "relaunched during backoff")
        let status = try #require(await r.appStatuses().first)
        #expect(status.phase == .degraded)
        #expect(status.reason?.contains("TASK_FAILED") == true)
    }

    @Test func dependsOnWaitsForTheDependencyToBeHealthy() async throws {
        let (r, _, _) = try makeReconciler()
        await r.seed(state: .init(), frameworkID: framework)
        _ = await r.apply(DesiredState(commit: "c1", workloads: [app("web", instances: 1, dependsOn: ["db"]), app("db", instances: 1)]))
        let first = launches(await r.offers([try offer(1)]))
        #expect(first.map { label($0, TaskLabel.app) } == ["db"])
        #expect(await r.appStatuses().first { $0.name == "web" }?.reason?.contains("db") == true)
        await running(r, first)
        let second = launches(await r.offers([try offer(2)]))
        #expect(second.map { label($0, TaskLabel.app) } == ["web"])
    }

    @Test func hostnameUniquePlacesOneInstancePerAgent() async throws {
        let (r, _, _) = try makeReconciler()
        await r.seed(state: .init(), frameworkID: framework)
        _ = await r.apply(DesiredState(commit: "c1", workloads: [app("web", instances: 3, constraints: [Constraint(attribute: "hostname", .unique)])]))
        let launched = launches(await r.offers([try offer(1, agent: "a1", host: "h1"), try offer(2, agent: "a2", host: "h2")]))
        #expect(launched.count == 2)
        #expect(Set(launched.map(\.agentID)).count == 2)
        #expect(launches(await r.offers([try offer(3, agent: "a1", host: "h1")])).isEmpty)
    }

    @Test func prunesRemovedAppsWithinTheDeletionBudgetOnly() async throws {
        let (r, _, _) = try makeReconciler(maxDeletions: 1)
        await r.seed(state: .init(), frameworkID: framework)
        _ = await r.apply(DesiredState(commit: "c1", workloads: [app("a", instances: 1), app("b", instances: 1), app("c", instances: 1)]))
        let launched = launches(await r.offers([try offer(1)]))
        await running(r, launched)
        _ = await r.tick()

        let refused = await r.apply(DesiredState(commit: "c2", workloads: [app("a", instances: 1)]))
        #expect(refused == .applied(created: [], updated: [], scaled: [], deleted: []))
        #expect(kills(await r.tick()).isEmpty, "deleted beyond the budget")
        #expect(await r.status(repo: "r", revision: "main").error?.contains("--max-deletions 1") == true)

        let pruned = await r.apply(DesiredState(commit: "c3", workloads: [app("a", instances: 1), app("b", instances: 1)]))
        #expect(pruned == .applied(created: [], updated: [], scaled: [], deleted: ["c"]))
        let killed = kills(await r.tick())
        #expect(killed.count == 1)
        #expect(killed.first?.value.hasPrefix("c.") == true)
    }

    @Test func anEmptyDesiredSetDeletesNothing() async throws {
        let (r, _, _) = try makeReconciler()
        await r.seed(state: .init(), frameworkID: framework)
        _ = await r.apply(DesiredState(commit: "c1", workloads: [app("a", instances: 1)]))
        let launched = launches(await r.offers([try offer(1)]))
        await running(r, launched)
        guard case .refused(let why) = await r.apply(DesiredState(commit: "c2", workloads: [])) else {
            Issue.record("an empty desired set was applied")
            return
        }
        #expect(why.contains("no apps"))
        #expect(kills(await r.tick()).isEmpty)
    }

    @Test func aNeverHealthyUpdateFailsAtItsDeadlineAndKeepsTheOldTasks() async throws {
        let (r, store, _) = try makeReconciler()
        await r.seed(state: .init(), frameworkID: framework)
        var web = app("web", instances: 1)
        web.spec.health = HealthCheckSpec(check: .tcp(port: .number(1)), interval: .seconds(1), timeout: .seconds(1), gracePeriod: .seconds(1))
        _ = await r.apply(DesiredState(commit: "c1", workloads: [web]))
        let old = launches(await r.offers([try offer(1)]))
        await running(r, old, healthy: true)
        _ = await r.tick()

        var broken = web
        broken.spec.env = ["BROKEN": "1"]
        broken.spec.update.progressDeadline = .milliseconds(300)
        _ = await r.apply(DesiredState(commit: "c2", workloads: [broken]))
        let new = launches(await r.offers([try offer(2)]))
        #expect(new.count == 1)
        await running(r, new, healthy: false)
        clock.advance(by: .milliseconds(400))
        let calls = await r.tick()
        let status = try #require(await r.appStatuses().first)
        #expect(status.phase == .failed)
        #expect(status.reason?.contains("no progress") == true)
        #expect(kills(calls) == new.map(\.taskID), "the never-healthy new task is killed, the old one kept")
        let history = try await store.history(app: "web")
        #expect(history.contains { $0.event == .failed })
    }

    @Test func aFailedTaskIsRelaunchedOnceItsBackoffHasPassed() async throws {
        let (r, _, _) = try makeReconciler()
        await r.seed(state: .init(), frameworkID: framework)
        var web = app("web", instances: 1)
        web.spec.backoff = RestartBackoff(delay: .seconds(30), factor: 2, max: .seconds(60))
        _ = await r.apply(DesiredState(commit: "c1", workloads: [web]))
        let launched = launches(await r.offers([try offer(1)]))
        _ = await r.update(TaskStatus(taskID: launched[0].taskID, state: .taskFailed, message: "exit 1", agentID: launched[0].agentID))
        clock.advance(by: .seconds(29))
        #expect(launches(await r.offers([try offer(2)])).isEmpty, "relaunched 1 s before the backoff ends")
        clock.advance(by: .seconds(2))
        #expect(launches(await r.offers([try offer(3)])).count == 1, "not relaunched after the backoff")
    }

    @Test func anEmptyDesiredSetDeletesEverythingOnlyWithAllowEmpty() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-reconciler-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        directories.append(dir)
        var configuration = ReconcilerConfiguration(master: HostPort(host: "127.0.0.1", port: 1))
        configuration.allowEmpty = true
        let r = Reconciler(configuration: configuration, store: try HistoryStore(path: dir + "/h.sqlite", logger: Logger(label: "test")), logger: Logger(label: "test"))
        await r.seed(state: .init(), frameworkID: framework)
        _ = await r.apply(DesiredState(commit: "c1", workloads: [app("a", instances: 1)]))
        let launched = launches(await r.offers([try offer(1)]))
        await running(r, launched)
        #expect(await r.apply(DesiredState(commit: "c2", workloads: [])) == .applied(created: [], updated: [], scaled: [], deleted: ["a"]))
        #expect(kills(await r.tick()) == launched.map(\.taskID))
    }

    @Test func aJobRunsOncePerSpecEvenAcrossRestarts() async throws {
        let (r, store, _) = try makeReconciler()
        await r.seed(state: .init(), frameworkID: framework)
        var job = app("migrate", instances: 1)
        job.kind = .job
        _ = await r.apply(DesiredState(commit: "c1", workloads: [job]))
        let launched = launches(await r.offers([try offer(1)]))
        #expect(launched.count == 1)
        _ = await r.update(TaskStatus(taskID: launched[0].taskID, state: .taskFinished, agentID: launched[0].agentID))
        _ = await r.tick()
        #expect(await r.appStatuses().first?.phase == .synced)
        #expect(launches(await r.offers([try offer(2)])).isEmpty, "a finished job ran again")

        let restarted = Reconciler(
            configuration: ReconcilerConfiguration(master: HostPort(host: "127.0.0.1", port: 1)), store: store, logger: Logger(label: "test"))
        await restarted.seed(state: .init(), frameworkID: framework)
        _ = await restarted.apply(DesiredState(commit: "c2", workloads: [job]))
        #expect(launches(await restarted.offers([try offer(3)])).isEmpty, "a restarted reconciler re-ran a finished job")
        job.spec.env = ["V": "2"]
        _ = await restarted.apply(DesiredState(commit: "c3", workloads: [job]))
        #expect(launches(await restarted.offers([try offer(4)])).count == 1, "a new job spec did not run")
    }
}

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let current = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { current.withLock { $0 } }
    func advance(by duration: Duration) { current.withLock { $0 += duration } }
}
