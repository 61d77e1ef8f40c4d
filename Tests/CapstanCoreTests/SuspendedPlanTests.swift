import CapstanCore
import Foundation
import Testing

/// Suspended and pinned apps in the one plan that `capstan diff` prints and the reconciler carries out.
@Suite("Planner: suspended and pinned apps")
struct SuspendedPlanTests {
    typealias F = PlanFixtures
    static let head = CommitID(hex: "d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1")

    func plan(_ desired: [Workload], _ tasks: [ObservedTask], suspended: Set<AppName>, agents: [AgentCapacity]? = nil) -> Plan {
        Planner.plan(
            desired: DesiredState(commit: Self.head, workloads: desired), actual: ClusterSnapshot(tasks: tasks, agents: agents),
            suspended: suspended)
    }

    @Test("A suspended app is held: unchanged, flagged, what it would do in a note, nothing to launch; others still change")
    func suspendedScaleIsHeld() {
        let web = F.app("web", instances: 3), api = F.app("api", instances: 1)
        let p = plan([web, api], F.tasks(web, 2) + F.tasks(api, 0), suspended: ["web"], agents: [F.agent("a0")])
        let item = p.items.first { $0.name == "web" }!
        #expect(item.action == .unchanged)
        #expect(item.suspended)
        #expect(item.newInstances == 0 && item.fit == nil)
        #expect(item.notes.first == "suspended: would scale (2 -> 3 instances)")
        #expect(p.items.first { $0.name == "api" }?.action == .create)
        #expect(p.summary == "1 to create, 0 to update, 0 to scale, 0 to delete, 1 unchanged (1 suspended)")

        // Suspended alone: no changes at all.
        let only = plan([web], F.tasks(web, 2), suspended: ["web"])
        #expect(!only.hasChanges)
        let text = PlanRenderer(against: "live").text(only)
        #expect(text.contains("! suspended web  2 instances left as they are\n"), "\(text)")
        #expect(text.contains("note: suspended: would scale (2 -> 3 instances)"))
        #expect(text.hasSuffix("No changes: the cluster matches d1d1d1d1d1d1 (1 unchanged, 1 suspended).\n"), "\(text)")
        let json = PlanRenderer(against: "live").json(only)
        #expect(json.contains("\"suspended\": true"))
        #expect(json.contains("\"hasChanges\": false"))
    }

    @Test("A suspended app that left git is not deleted, and a suspended update kills nothing")
    func suspendedDeleteAndUpdate() {
        let gone = F.app("gone", instances: 2)
        let p = plan([], F.tasks(gone, 2), suspended: ["gone"])
        #expect(p.items.map(\.action) == [.unchanged])
        #expect(p.items[0].notes.first == "suspended: would delete (2 instances)")
        #expect(!p.hasChanges)

        let v1 = F.app("web", env: ["MODE": "dev"]), v2 = F.app("web", env: ["MODE": "prod"])
        let update = plan([v2], F.tasks(v1, 2), suspended: ["web"])
        #expect(update.items[0].action == .unchanged && update.items[0].suspended)
        #expect(update.items[0].notes.first?.hasPrefix("suspended: would update") == true)
    }

    @Test("The reconcile machine launches and kills nothing for a suspended app, and converges once it is resumed")
    func machineHoldsSuspendedApps() {
        let now = ContinuousClock.now
        let web = F.app("web", instances: 3)
        let seeds = F.tasks(web, 2).enumerated().map { index, task in
            ReconciledTask(observed: task, hasHealthCheck: false, launchOrder: index, stateName: "TASK_RUNNING")
        }
        var machine = ReconcileMachine(makeTaskID: { TaskID("\($0.name).new.\(UUID().uuidString)") })
        machine.suspended = ["web"]
        _ = machine.seed(tasks: seeds, agents: [:], converged: [:], now: now)
        let (_, commitActions) = machine.commit(DesiredState(commit: Self.head, workloads: [web]), now: now)
        #expect(!commitActions.contains { if case .journal = $0 { true } else { false } }, "a held app is not journalled as scaled")
        let offer = [OfferedCapacity(offerID: OfferID("o1"), agent: F.agent("a0", cpus: 100, mem: 100_000))]
        let held = machine.offers(offer, now: now) + machine.tick(now: now + .seconds(3600))
        #expect(!held.contains { if case .accept = $0 { true } else if case .kill = $0 { true } else { false } }, "\(held)")
        #expect(machine.plan().items[0].suspended)
        // A suspended app never misses its progress deadline.
        #expect(machine.apps["web"]?.failedReason == nil)

        machine.suspended = []
        let resumed = machine.offers(offer, now: now + .seconds(3601))
        let launched = resumed.flatMap { action -> [LaunchRequest] in if case .accept(_, let launches, _) = action { launches } else { [] } }
        #expect(launched.count == 1, "resumed: the missing instance is launched")
    }

    @Test("A pinned app's item names its pin; the reconcile machine labels its tasks with the pinned commit")
    func pinnedApp() {
        let v1 = F.app("web", env: ["MODE": "v1"]), api = F.app("api", instances: 1)
        let pin = CommitID(hex: "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0")
        var state = DesiredState(commit: Self.head, workloads: [v1, api])
        state.appCommits["web"] = pin
        let p = Planner.plan(desired: state, actual: ClusterSnapshot(tasks: F.tasks(v1, 2, commit: "a0a0a0a0a0a0") + F.tasks(api, 1)))
        #expect(p.items.first { $0.name == "web" }?.pinnedCommit == "a0a0a0a0a0a0")
        #expect(p.items.first { $0.name == "api" }?.pinnedCommit == nil)
        #expect(!p.hasChanges)
        let text = PlanRenderer(against: "live").text(p)
        #expect(text.contains("= pinned   web  no restart\n      pinned: a0a0a0a0a0a0 (capstan rollback web --clear follows HEAD again)\n"), "\(text)")

        let now = ContinuousClock.now
        var machine = ReconcileMachine(makeTaskID: { TaskID("\($0.name).new.\(UUID().uuidString)") })
        _ = machine.seed(tasks: [], agents: [:], converged: [:], now: now)
        _ = machine.commit(state, now: now)
        #expect(machine.apps["web"]?.commit == pin)
        #expect(machine.apps["api"]?.commit == Self.head)
        #expect(machine.desired.appCommits == ["web": pin])
        let actions = machine.offers([OfferedCapacity(offerID: OfferID("o1"), agent: F.agent("a0", cpus: 100, mem: 100_000))], now: now)
        let launches = actions.flatMap { action -> [LaunchRequest] in if case .accept(_, let launches, _) = action { launches } else { [] } }
        #expect(Set(launches.filter { $0.workload.name == "web" }.map(\.commit)) == [pin])
        #expect(Set(launches.filter { $0.workload.name == "api" }.map(\.commit)) == [Self.head])
    }
}
