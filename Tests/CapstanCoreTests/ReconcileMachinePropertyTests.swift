import CapstanCore
import Foundation
import Testing

/// The machine's first actions for a commit are the plan's entries: for generated desired states and clusters
/// (random apps and jobs, tasks of current and older templates in every phase, tasks being killed, finished and
/// failed job runs, apps that left git), what it journals, kills and launches is exactly what
/// `Planner.plan` — the plan `capstan diff` prints — says, within the pace of the rollout rules.
@Suite("ReconcileMachine properties")
struct ReconcileMachinePropertyTests {
    static let names: [AppName] = ["api", "batch", "cache", "db", "etl", "web"]

    struct Scenario {
        var desired: DesiredState
        var tasks: [ReconciledTask]
    }

    static func workload(_ name: AppName, kind: WorkloadKind, variant: Int, instances: Int, random: inout SeededGenerator) -> Workload {
        var spec = WorkloadSpec(command: ["sleep", "600"], env: ["V": "\(variant)"], instances: instances)
        spec.resources = ResourceRequest(cpus: 0.1, memMiB: 16)
        spec.update = UpdateStrategy(
            minHealthy: .percent(Double([0, 50, 100][random.next(below: 3)])), maxSurge: .count(1 + random.next(below: 2)))
        return Workload(kind: kind, name: name, spec: spec)
    }

    static func scenario(seed: UInt64) -> Scenario {
        var random = SeededGenerator(seed: seed)
        var workloads: [Workload] = []
        var tasks: [ReconciledTask] = []
        var counter = 0
        for name in names {
            let kind: WorkloadKind = name == "batch" || name == "etl" ? .job : .app
            let desiredVariant = 1 + random.next(below: 2)
            let instances = kind == .job ? 1 + random.next(below: 3) : random.next(below: 5)
            let inGit = random.next(below: 5) > 0
            let current = workload(name, kind: kind, variant: desiredVariant, instances: instances, random: &random)
            let older = workload(name, kind: kind, variant: 3 - desiredVariant, instances: instances, random: &random)
            if inGit { workloads.append(current) }
            for _ in 0..<random.next(below: 6) {
                let template = random.next(below: 3) == 0 ? older.templateLabel : current.templateLabel
                let phases: [ObservedTask.Phase] = kind == .job
                    ? [.pending, .running, .killing, .finished, .failed] : [.pending, .running, .running, .killing, .failed]
                let phase = phases[random.next(below: phases.count)]
                counter += 1
                let killRequested = phase == .running && random.next(below: 6) == 0
                tasks.append(ReconciledTask(
                    observed: ObservedTask(
                        taskID: TaskID("\(name).t\(counter)"), app: name, kind: kind, templateLabel: template, commit: "c0",
                        phase: phase, healthy: phase == .running ? random.next(below: 4) > 0 : nil,
                        agentID: AgentID("a\(random.next(below: 3))"), resources: try! Resources.parse("cpus:0.1;mem:16")),
                    hasHealthCheck: false, killRequested: killRequested, launchOrder: counter, stateName: "TASK_RUNNING"))
            }
        }
        return Scenario(desired: DesiredState(commit: CommitID(hex: String(format: "%040x", seed)), workloads: workloads), tasks: tasks)
    }

    static func machine(seeded tasks: [ReconciledTask], now: ContinuousClock.Instant) -> ReconcileMachine {
        var machine = ReconcileMachine(makeTaskID: { TaskID("\($0.name).new.\(UUID().uuidString)") })
        _ = machine.seed(tasks: tasks, agents: [:], converged: [:], now: now)
        return machine
    }

    static let ample = [OfferedCapacity(offerID: OfferID("o1"), agent: AgentCapacity(
        agentID: AgentID("a0"), hostname: "h0", free: try! Resources.parse("cpus:1000;mem:1000000;ports:[31000-32000]")))]

    @Test("For 300 generated clusters, a commit journals exactly the plan's entries, kills only what the plan frees, and launches what it adds", arguments: 1...300)
    func firstActionsAreThePlansEntries(seed: Int) throws {
        let scenario = Self.scenario(seed: UInt64(seed))
        let now = ContinuousClock.now
        var machine = Self.machine(seeded: scenario.tasks, now: now)
        // The task killed before the commit is already on its way out; the plan (and capstan diff) see it as killing.
        let plan = Planner.plan(desired: scenario.desired, actual: ClusterSnapshot(tasks: scenario.tasks.map(\.planned)))
        let items = Dictionary(uniqueKeysWithValues: plan.items.map { ($0.name, $0) })

        let (outcome, commitActions) = machine.commit(scenario.desired, now: now)
        var journalled: [AppName: JournalEvent] = [:]
        var commitKills: Set<TaskID> = []
        for action in commitActions {
            if case .journal(let entry) = action { journalled[entry.app] = entry.event }
            if case .kill(let kill) = action { commitKills.insert(kill.taskID) }
            if case .accept = action { Issue.record("a commit launched before any offer") }
        }
        var expected: [AppName: JournalEvent] = [:]
        for item in plan.changes { expected[item.name] = JournalEvent(item.action) }
        if scenario.desired.workloads.isEmpty {
            guard case .refused = outcome else { Issue.record("an empty desired state was applied"); return }
            return
        }
        #expect(journalled == expected, "seed \(seed): journal \(journalled) ≠ plan \(expected)")
        guard case .applied(let created, let updated, let scaled, let deleted) = outcome else {
            Issue.record("seed \(seed): not applied: \(outcome)")
            return
        }
        #expect(created == plan.changes.filter { $0.action == .create }.map(\.name))
        #expect(updated == plan.changes.filter { $0.action == .update }.map(\.name))
        #expect(scaled == plan.changes.filter { $0.action == .scale }.map(\.name))
        #expect(deleted == plan.changes.filter { $0.action == .delete }.map(\.name))
        let deleteTasks = Set(plan.items.filter { $0.action == .delete }.flatMap(\.tasks))
        #expect(commitKills == deleteTasks, "seed \(seed): a commit kills exactly the deleted apps' live tasks")

        // The first offer: launches and kills per app, against the plan.
        let offerActions = machine.offers(Self.ample, now: now)
        var launched: [AppName: Int] = [:]
        var killed: [AppName: Set<TaskID>] = [:]
        let appOf = Dictionary(uniqueKeysWithValues: scenario.tasks.map { ($0.id, $0.app) })
        for action in offerActions {
            if case .accept(_, let launches, _) = action {
                for launch in launches {
                    launched[launch.workload.name, default: 0] += 1
                    #expect(launch.workload.templateLabel == items[launch.workload.name]?.templateLabel, "launches run the desired template")
                }
            }
            if case .kill(let kill) = action { killed[appOf[kill.taskID] ?? "?", default: []].insert(kill.taskID) }
        }
        for item in plan.items {
            let launches = launched[item.name] ?? 0
            let kills = killed[item.name] ?? []
            #expect(launches <= item.newInstances, "seed \(seed) \(item.name): launched \(launches) > plan's \(item.newInstances)")
            #expect(kills.isSubset(of: Set(item.tasks)), "seed \(seed) \(item.name): killed a task the plan does not list")
            switch (item.kind, item.action) {
            case (_, .unchanged):
                #expect(launches == 0 && kills.isEmpty, "seed \(seed) \(item.name): acted on an unchanged item")
            case (.job, .update):
                #expect(kills == Set(item.outdatedTasks), "seed \(seed) \(item.name): a job update stops its outdated runs")
                #expect(launches == item.newInstances)
            case (.job, _), (.app, .create):
                #expect(launches == item.newInstances, "seed \(seed) \(item.name): \(item.action) launched \(launches) of \(item.newInstances)")
            case (.app, .scale):
                if item.desiredInstances > item.currentInstances {
                    #expect(launches == item.newInstances, "seed \(seed) \(item.name): scale-up launched \(launches) of \(item.newInstances)")
                } else {
                    #expect(kills.count == item.currentInstances - item.desiredInstances, "seed \(seed) \(item.name): scale-down killed \(kills.count)")
                }
            case (.app, .update):
                #expect(kills.isSubset(of: Set(item.outdatedTasks)) || item.currentInstances > item.desiredInstances)
                #expect(launches > 0 || !kills.isEmpty || scenario.tasks.contains { $0.app == item.name && $0.isLive && ($0.killRequested || $0.observed.phase == .killing) }
                        || scenario.tasks.filter { $0.app == item.name && $0.isLive }.count >= item.desiredInstances,
                        "seed \(seed) \(item.name): an update neither launched nor killed")
            case (_, .delete):
                #expect(launches == 0)
            }
        }
    }
}
