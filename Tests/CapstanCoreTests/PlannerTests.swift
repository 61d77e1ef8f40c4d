import CapstanCore
import Testing

@Suite("Planner")
struct PlannerTests {
    typealias F = PlanFixtures
    static let head = "d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1"
    static let old = "c0c0c0c0c0c0"

    func plan(_ desired: [Workload], _ tasks: [ObservedTask], agents: [AgentCapacity]? = nil, running: [Workload] = []) -> Plan {
        Planner.plan(
            desired: DesiredState(commit: CommitID(hex: Self.head), workloads: desired), actual: ClusterSnapshot(tasks: tasks, agents: agents),
            runningSpecs: running.isEmpty ? [] : [DesiredState(commit: CommitID(hex: Self.old), workloads: running)])
    }

    @Test func convergedClusterHasNoChanges() {
        let web = F.app("web", instances: 3)
        let p = plan([web], F.tasks(web, 3), running: [web])
        #expect(!p.hasChanges)
        #expect(p.items.map(\.action) == [.unchanged])
        #expect(p.items[0].changes.isEmpty)
        #expect(p.items[0].runningCommits == [Self.old])
    }

    @Test func appWithoutTasksIsCreatedAndUnknownAppsAreDeleted() {
        let web = F.app("web"), gone = F.app("gone", instances: 2)
        let p = plan([web], F.tasks(gone, 2))
        #expect(p.items.map(\.name) == ["gone", "web"])
        #expect(p.items[0].action == .delete)
        #expect(p.items[0].currentInstances == 2 && p.items[0].desiredInstances == 0)
        #expect(p.items[0].outdatedTasks.count == 2)
        #expect(p.items[1].action == .create)
        #expect(p.items[1].desiredInstances == 2)
        #expect(p.items[1].fit == .unchecked, "no agents known: fit is not checked")
        #expect(p.summary == "1 to create, 0 to update, 0 to scale, 1 to delete, 0 unchanged")
    }

    @Test func terminalTasksOfAPrunedAppAreIgnored() {
        let gone = F.app("gone")
        let p = plan([], F.tasks(gone, 2, phase: .failed) + F.tasks(gone, 1, phase: .killing, from: 5))
        #expect(p.items.isEmpty)
        #expect(!p.hasChanges)
    }

    @Test func changedSpecIsARollingUpdateWithFieldChanges() {
        let before = F.app("web", instances: 2, env: ["MODE": "dev"], mem: 128)
        let after = F.app("web", instances: 3, env: ["MODE": "prod", "NEW": "1"], mem: 256)
        let p = plan([after], F.tasks(before, 2), running: [before])
        let item = p.items[0]
        #expect(item.action == .update)
        #expect(item.currentInstances == 2 && item.desiredInstances == 3)
        #expect(item.outdatedTasks.count == 2)
        #expect(item.changes == [
            FieldChange(path: "spec.env.MODE", old: .string("dev"), new: .string("prod")),
            FieldChange(path: "spec.env.NEW", old: nil, new: .string("1")),
            FieldChange(path: "spec.instances", old: .number(2), new: .number(3)),
            FieldChange(path: "spec.resources.mem", old: .number(128), new: .number(256)),
        ])
        #expect(item.notes.isEmpty)
    }

    @Test func updateWithoutTheRunningManifestSaysSo() {
        let before = F.app("web", env: ["MODE": "dev"]), after = F.app("web", env: ["MODE": "prod"])
        let p = plan([after], F.tasks(before, 2))
        #expect(p.items[0].action == .update)
        #expect(p.items[0].changes.isEmpty)
        #expect(p.items[0].notes == ["the manifest of template \(before.templateLabel) (commit \(Self.old)) could not be read: field-level changes unknown"])
    }

    @Test func aManifestWhoseTemplateDiffersFromTheTaskNeverExplainsIt() {
        // The commit label says c0…, but the manifest at c0… is not what the task was launched with.
        let launched = F.app("web", env: ["MODE": "a"]), atCommit = F.app("web", env: ["MODE": "b"])
        let p = plan([F.app("web", env: ["MODE": "c"])], F.tasks(launched, 2), running: [atCommit])
        #expect(p.items[0].changes.isEmpty)
        #expect(p.items[0].notes.count == 1)
    }

    @Test func midRolloutIsAnUpdateThatNeedsOnlyTheMissingInstances() {
        let before = F.app("web", instances: 3, env: ["V": "1"]), after = F.app("web", instances: 3, env: ["V": "2"])
        let tasks = F.tasks(before, 2) + F.tasks(after, 1, commit: "d1d1d1d1d1d1", from: 10)
        let p = plan([after], tasks, agents: [F.agent("a0", cpus: 0.5)], running: [before])
        let item = p.items[0]
        #expect(item.action == .update)
        #expect(item.outdatedTasks.count == 2)
        #expect(item.runningCommits == ["c0c0c0c0c0c0", "d1d1d1d1d1d1"])
        #expect(item.notes == ["rollout under way: 1 of 3 live tasks already run the desired template"])
        // Two more instances are needed; the outdated two free 2 × 0.5 cpus on a0 (which had 0.5 free).
        #expect(item.fit == .fits)
    }

    @Test func scalingKeepsTasksAndReportsOnlyTheCount() {
        let three = F.app("web", instances: 3), five = F.app("web", instances: 5)
        #expect(three.templateLabel == five.templateLabel)
        let up = plan([five], F.tasks(three, 3), running: [three])
        #expect(up.items[0].action == .scale)
        #expect(up.items[0].changes == [FieldChange(path: "spec.instances", old: .number(3), new: .number(5))])
        #expect(up.items[0].outdatedTasks.isEmpty)
        let down = plan([three], F.tasks(five, 5), agents: [], running: [five])
        #expect(down.items[0].action == .scale)
        #expect(down.items[0].fit == nil, "scaling down launches nothing")
    }

    @Test func orchestrationOnlyChangesAreUnchangedButListed() {
        let before = F.app("web", instances: 2)
        var after = before
        after.spec.update.maxSurge = .count(2)
        after.spec.backoff.delay = .seconds(3)
        let p = plan([after], F.tasks(before, 2), running: [before])
        #expect(!p.hasChanges)
        #expect(p.items[0].action == .unchanged)
        #expect(p.items[0].changes.map(\.path) == ["spec.backoff.delay", "spec.update.maxSurge"])
    }

    @Test func labelsNotSpecsDecideDrift() {
        // Only the label counts: a task whose label matches is unchanged whatever else is known about it.
        let web = F.app("web", instances: 1)
        var task = F.tasks(web, 1)[0]
        task.resources = Resources([.scalar("cpus", 9)])
        task.commit = "ffffffffffff"
        #expect(!plan([web], [task]).hasChanges)
    }

    @Test func pendingTasksCountAndKillingOnesDoNot() {
        let web = F.app("web", instances: 2)
        let tasks = F.tasks(web, 1, phase: .pending) + F.tasks(web, 1, from: 1) + F.tasks(web, 1, phase: .killing, from: 2)
        let p = plan([web], tasks)
        #expect(p.items[0].action == .unchanged)
        #expect(p.items[0].currentInstances == 2)
    }

    @Test func jobsRunOncePerSpec() {
        let migrate = F.job("migrate")
        let changed = F.job("migrate", command: "echo v2")
        #expect(plan([migrate], []).items[0].action == .create)
        #expect(plan([migrate], F.tasks(migrate, 1, phase: .finished)).items[0].action == .unchanged)
        #expect(plan([migrate], F.tasks(migrate, 1, phase: .finished)).items[0].notes == ["completed"])
        #expect(plan([migrate], F.tasks(migrate, 1)).items[0].notes == ["running"])

        let rerun = plan([changed], F.tasks(migrate, 1, phase: .finished), running: [migrate])
        #expect(rerun.items[0].action == .create)
        #expect(rerun.items[0].changes.map(\.path) == ["spec.command"])
        #expect(rerun.items[0].notes == ["runs again: the spec changed since the last run"])

        let failed = plan([migrate], F.tasks(migrate, 1, phase: .failed))
        #expect(failed.items[0].action == .create)
        #expect(failed.items[0].notes == ["an earlier run of this spec failed"])

        let replace = plan([changed], F.tasks(migrate, 1), running: [migrate])
        #expect(replace.items[0].action == .update)
        #expect(replace.items[0].outdatedTasks.count == 1)

        let gone = plan([], F.tasks(migrate, 1))
        #expect(gone.items[0].action == .delete && gone.items[0].kind == .job)
        #expect(plan([], F.tasks(migrate, 1, phase: .finished)).items.isEmpty)
    }

    @Test func convergedSnapshotOfARevisionMatchesItself() {
        let state = DesiredState(commit: CommitID(hex: Self.head), workloads: [F.app("web", instances: 3), F.job("migrate"), F.app("idle", instances: 0)])
        let snapshot = ClusterSnapshot.converged(to: state)
        #expect(snapshot.tasks.count == 4)
        #expect(snapshot.agents == nil)
        let p = Planner.plan(desired: state, actual: snapshot, runningSpecs: [state])
        #expect(!p.hasChanges)
        #expect(p.items.map(\.name) == ["idle", "migrate", "web"])
    }

    @Test func itemsAreSortedAndThePlanIsDeterministic() {
        let names: [AppName] = ["zeta", "alpha", "mid", "beta"]
        let apps = names.map { F.app($0) }
        let a = plan(apps, F.tasks(F.app("old"), 1))
        let b = plan(apps.reversed(), F.tasks(F.app("old"), 1))
        #expect(a.items.map(\.name) == ["alpha", "beta", "mid", "old", "zeta"])
        #expect(a == b)
    }
}
