import CapstanAPI
import CapstanCore
import Foundation
import Logging
import Testing

@testable import CapstanReconciler

/// `capstan diff` against a live master plans from GET_STATE (``ClusterSnapshot/init(state:role:)``) with the reconciler's
/// controls; the reconciler plans from the same GET_STATE after seeding. For finished jobs, failed jobs and apps whose
/// only task died, both must decide the same thing.
@Suite("capstan diff and the reconciler agree")
struct DiffAgreementTests {
    static let framework = FrameworkID("fw-agree")
    static let commit = CommitID(hex: String(repeating: "e", count: 40))

    static func job(_ name: AppName) -> Workload {
        var spec = WorkloadSpec(command: ["/bin/sh", "-c", "exit 0"], instances: 1)
        spec.resources = ResourceRequest(cpus: 0.1, memMiB: 16)
        return Workload(kind: .job, name: name, spec: spec)
    }

    static func app(_ name: AppName) -> Workload {
        var spec = WorkloadSpec(command: ["sleep", "600"], instances: 1)
        spec.resources = ResourceRequest(cpus: 0.1, memMiB: 16)
        return Workload(kind: .app, name: name, spec: spec)
    }

    static func task(_ id: String, _ workload: Workload, _ state: TaskState) -> MesosTask {
        var labels = [
            Label(key: TaskLabel.app, value: workload.name.value), Label(key: TaskLabel.spec, value: workload.templateLabel),
            Label(key: TaskLabel.commit, value: commit.short),
        ]
        if workload.kind == .job { labels.append(Label(key: TaskLabel.kind, value: "Job")) }
        return MesosTask(
            name: id, taskID: TaskID(id), frameworkID: framework, agentID: AgentID("a1"), state: state,
            resources: Resources([.scalar("cpus", 0.1), .scalar("mem", 16)]).mesos,
            statuses: [TaskStatus(taskID: TaskID(id), state: state)], labels: Labels(labels: labels))
    }

    /// The plan `capstan diff` computes (GET_STATE plus the reconciler's controls) and the reconciler's own, as comparable rows.
    static func both(_ state: OperatorResponse.GetState, desired: DesiredState, converged: [String: String] = [:]) async throws
        -> (diff: [String], daemon: [String], diffPlan: Plan)
    {
        let store = try HistoryStore.inMemory(logger: Logger(label: "test"))
        for (app, label) in converged { try await store.setConverged(app: app, commit: commit.short, specLabel: label) }
        let reconciler = Reconciler(
            configuration: ReconcilerConfiguration(master: HostPort(host: "127.0.0.1", port: 1)), store: store, logger: Logger(label: "test"))
        await reconciler.seed(state: state, frameworkID: framework)
        await reconciler.apply(desired)
        let daemonPlan = await reconciler.plan()

        var snapshot = try ClusterSnapshot(state: state)
        let controls = await reconciler.controls()
        for (job, label) in controls.completedJobs { snapshot.completedJobs[AppName(job)] = label }
        let diffPlan = Planner.plan(desired: desired, actual: snapshot, suspended: Set(controls.suspended.map { AppName($0) }))
        func rows(_ plan: Plan) -> [String] {
            plan.items.map { "\($0.name) \($0.action) \($0.currentInstances)->\($0.desiredInstances) new \($0.newInstances)" }
        }
        return (rows(diffPlan), rows(daemonPlan), diffPlan)
    }

    @Test("A job that finished is done (not run again), a failed job runs again, an app whose only task died is created again")
    func finishedFailedAndDead() async throws {
        let done = Self.job("done"), failed = Self.job("failed"), web = Self.app("web")
        let state = OperatorResponse.GetState(getTasks: OperatorResponse.GetTasks(completedTasks: [
            Self.task("done.1", done, .taskFinished), Self.task("failed.1", failed, .taskFailed), Self.task("web.1", web, .taskFailed),
        ]))
        let desired = DesiredState(commit: Self.commit, workloads: [done, failed, web])
        let (diff, daemon, plan) = try await Self.both(state, desired: desired)
        #expect(diff == daemon)
        #expect(diff == ["done unchanged 0->0 new 0", "failed create 0->1 new 1", "web create 0->1 new 1"])
        let text = PlanRenderer(against: "live").text(plan)
        #expect(!text.contains(" done "), "a finished job is not a change: \(text)")
        #expect(text.contains("+ create   failed  1 instance\n"), "\(text)")
        #expect(text.contains("+ create   web     1 instance\n"), "\(text)")
    }

    @Test("A job the master forgot (restarted) but the history records as done is done for both")
    func finishedJobForgottenByTheMaster() async throws {
        let done = Self.job("done")
        let desired = DesiredState(commit: Self.commit, workloads: [done])
        let (diff, daemon, plan) = try await Self.both(.init(), desired: desired, converged: ["done": done.templateLabel])
        #expect(diff == daemon)
        #expect(diff == ["done unchanged 0->0 new 0"])
        #expect(!plan.hasChanges)
    }

    @Test("A suspended app is held by both")
    func suspendedAgree() async throws {
        let web = Self.app("web")
        let store = try HistoryStore.inMemory(logger: Logger(label: "test"))
        let reconciler = Reconciler(
            configuration: ReconcilerConfiguration(master: HostPort(host: "127.0.0.1", port: 1)), store: store, logger: Logger(label: "test"))
        let state = OperatorResponse.GetState(getTasks: OperatorResponse.GetTasks(completedTasks: [Self.task("web.1", web, .taskFailed)]))
        await reconciler.seed(state: state, frameworkID: Self.framework)
        await reconciler.apply(DesiredState(commit: Self.commit, workloads: [web]))
        _ = try await reconciler.setSuspended("web", true)
        #expect(try await store.suspendedApps() == ["web"])
        let controls = await reconciler.controls()
        #expect(controls.suspended == ["web"])
        let daemon = await reconciler.plan()
        let diff = Planner.plan(
            desired: DesiredState(commit: Self.commit, workloads: [web]), actual: try ClusterSnapshot(state: state),
            suspended: Set(controls.suspended.map { AppName($0) }))
        #expect(daemon.items.map(\.action) == diff.items.map(\.action))
        #expect(daemon.items.map(\.suspended) == [true] && diff.items.map(\.suspended) == [true])
        let status = await reconciler.status(repo: "r", revision: "main")
        #expect(status.apps.first?.suspended == true)
        #expect(status.apps.first?.reason?.hasPrefix("suspended (capstan resume web reconciles it again)") == true)
        let json = String(decoding: try ReconcilerJSON.encode(status), as: UTF8.self)
        #expect(json.contains("\"suspended\":true"))

        await #expect(throws: CapstanError.self) { _ = try await reconciler.setSuspended("nope", true) }
        // A restarted reconciler reads the suspension back.
        let again = Reconciler(
            configuration: ReconcilerConfiguration(master: HostPort(host: "127.0.0.1", port: 1)), store: store, logger: Logger(label: "test"))
        await again.restoreControls()
        #expect(await again.machine.suspended == Set([AppName("web")]))
    }
}
