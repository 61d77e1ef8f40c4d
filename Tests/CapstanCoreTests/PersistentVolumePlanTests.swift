import CapstanCore
import Foundation
import Testing

/// Persistent volumes declared in manifests: one plan (what `capstan diff` prints and the reconciler carries out) says
/// which volumes are created, kept, retained or destroyed, and pins each instance slot to the agent holding its volumes.
@Suite("Persistent volumes in the plan and the reconciler")
struct PersistentVolumePlanTests {
    static func db(instances: Int = 1, size: Double = 64, destroy: Bool = false, env: [String: String] = [:]) -> Workload {
        var workload = PlanFixtures.app("db", instances: instances, env: env, cpus: 0.1, mem: 16)
        workload.spec.volumes = [VolumeSpec(path: "data", source: .persistent(sizeMiB: size, destroy: destroy))]
        return workload
    }

    static func volume(_ app: AppName = "db", slot: Int, on agent: String, size: Double = 64) -> ObservedVolume {
        let id = AppVolumeID(app: app, slot: slot, path: "data")
        return ObservedVolume(id: id, agentID: AgentID(agent), resource: Resource(
            name: "disk", value: .scalar(size), role: "capstan", reservation: ResourceReservation(principal: nil),
            volume: PersistentVolume(id: id.persistenceID, containerPath: "data")))
    }

    static func task(_ workload: Workload, slot: Int, on agent: String, volume: ObservedVolume?, phase: ObservedTask.Phase = .running) -> ObservedTask {
        ObservedTask(
            taskID: TaskID("db.t\(slot)"), app: workload.name, templateLabel: workload.templateLabel, commit: "c0c0c0c0c0c0", phase: phase,
            healthy: phase == .running ? true : nil, agentID: AgentID(agent),
            resources: workload.spec.resources.resources + Resources(volume.map { [$0.resource] } ?? []), slot: slot)
    }

    static func state(_ workloads: Workload...) -> DesiredState {
        DesiredState(commit: CommitID(hex: String(repeating: "ab", count: 20)), workloads: workloads)
    }

    @Test("A volume ID names its app, slot and path, and other IDs are not app volumes")
    func volumeIDsRoundTrip() {
        let id = AppVolumeID(app: "db", slot: 3, path: "/var/lib/my db")
        #expect(id.persistenceID == "capstan.db.3.var_lib_my_db")
        #expect(AppVolumeID(persistenceID: id.persistenceID) == id)
        for other in ["db-data", "capstan.db.x.data", "capstan.db.01.data", "capstan..0.data", "other.db.0.data", "capstan.db.0.a.b"] {
            #expect(AppVolumeID(persistenceID: other) == nil, "\(other)")
        }
    }

    @Test("New volumes are created with their instances; fit counts their disk")
    func newVolumesAreCreated() {
        let plan = Planner.plan(
            desired: Self.state(Self.db(instances: 2, size: 6000)),
            actual: ClusterSnapshot(tasks: [], agents: [PlanFixtures.agent("a0"), PlanFixtures.agent("a1")]))
        #expect(plan.volumes.map(\.action) == [.create, .create])
        #expect(plan.volumes.map(\.id.slot) == [0, 1])
        #expect(plan.items.first?.fit == .fits, "each 6000 MiB volume fits on its own agent's 10000 MiB")
        let tight = Planner.plan(
            desired: Self.state(Self.db(instances: 2, size: 6000)), actual: ClusterSnapshot(tasks: [], agents: [PlanFixtures.agent("a0")]))
        guard case .willNotFit(let placed, _, let reason)? = tight.items.first?.fit else {
            Issue.record("two 6000 MiB volumes fit on one agent with 10000 MiB: \(String(describing: tight.items.first?.fit))")
            return
        }
        #expect(placed == 1 && reason.contains("disk"), "\(reason)")
    }

    @Test("An instance whose volume exists is pinned to that volume's agent")
    func existingVolumesPinTheirSlot() {
        // Slot 0's volume is on a1, which is full: the instance may not go to a0, however free it is.
        var full = PlanFixtures.agent("a1")
        full.free = try! Resources.parse("cpus:0;mem:0;disk:0")
        let plan = Planner.plan(
            desired: Self.state(Self.db()),
            actual: ClusterSnapshot(tasks: [], agents: [PlanFixtures.agent("a0"), full], volumes: [Self.volume(slot: 0, on: "a1")]))
        #expect(plan.volumes.map(\.action) == [.keep])
        guard case .willNotFit(_, _, let reason)? = plan.items.first?.fit else {
            Issue.record("the instance was placed off its volume's agent")
            return
        }
        #expect(reason.contains("must run on agent a1"), "\(reason)")
        let roomy = Planner.plan(
            desired: Self.state(Self.db()),
            actual: ClusterSnapshot(tasks: [], agents: [PlanFixtures.agent("a0"), PlanFixtures.agent("a1")], volumes: [Self.volume(slot: 0, on: "a1")]))
        #expect(roomy.items.first?.fit == .fits)
    }

    @Test("Removing an app, a volume or instances keeps the data: the volume is retained, and that is not a change")
    func removalRetains() {
        let db = Self.db(instances: 2)
        let volumes = [Self.volume(slot: 0, on: "a0"), Self.volume(slot: 1, on: "a1")]
        let gone = Planner.plan(desired: Self.state(PlanFixtures.app("web")), actual: ClusterSnapshot(volumes: volumes))
        #expect(gone.volumes.map(\.action) == [.retain, .retain])
        #expect(gone.volumes.allSatisfy { $0.note?.contains("not in git") == true })
        #expect(!gone.hasChanges || gone.items.contains { $0.action != .unchanged })

        let scaled = Planner.plan(
            desired: Self.state(Self.db(instances: 1)),
            actual: ClusterSnapshot(tasks: [Self.task(db, slot: 0, on: "a0", volume: volumes[0])], volumes: volumes))
        #expect(scaled.volumes.map(\.action) == [.keep, .retain])
        #expect(scaled.volumes[0].usedBy == TaskID("db.t0"))
        #expect(scaled.volumes[1].note?.contains("above instances") == true)

        var noVolume = PlanFixtures.app("db", instances: 2, cpus: 0.1, mem: 16)
        noVolume.spec.volumes = []
        let dropped = Planner.plan(desired: Self.state(noVolume), actual: ClusterSnapshot(volumes: volumes))
        #expect(dropped.volumes.map(\.action) == [.retain, .retain])
    }

    @Test("destroy: confirm destroys every slot's volume once no task uses it, and is a change")
    func explicitDestroy() {
        let plan = Planner.plan(
            desired: Self.state(Self.db(instances: 1, destroy: true)),
            actual: ClusterSnapshot(volumes: [Self.volume(slot: 0, on: "a0"), Self.volume(slot: 4, on: "a1")]))
        #expect(plan.volumes.map(\.action) == [.destroy, .destroy])
        #expect(plan.hasChanges)
        let text = PlanRenderer(against: "test").text(plan)
        #expect(text.contains("- destroy  capstan.db.0.data") && text.contains("2 volumes to destroy"), "\(text)")
        let json = PlanRenderer(against: "test").json(plan)
        #expect(json.contains("\"volumesToDestroy\": 2"), "\(json)")
    }

    // MARK: The reconciler's machine

    static func offer(_ id: String, agent: String, disk: Double = 10_000, volumes: [ObservedVolume] = []) -> OfferedCapacity {
        OfferedCapacity(offerID: OfferID(id), agent: AgentCapacity(
            agentID: AgentID(agent), hostname: "\(agent).example",
            free: try! Resources.parse("cpus:4;mem:4096;disk:\(Int(disk))") + Resources(volumes.map(\.resource))))
    }

    static func machine(tasks: [ObservedTask] = [], volumes: [ObservedVolume] = [], desired: Workload, now: ContinuousClock.Instant) -> ReconcileMachine {
        var machine = ReconcileMachine(makeTaskID: { TaskID("\($0.name).new.\(UUID().uuidString)") })
        let seeds = tasks.map { ReconciledTask(observed: $0, hasHealthCheck: false, launchOrder: 0, stateName: "TASK_RUNNING") }
        _ = machine.seed(tasks: seeds, agents: [:], converged: [:], volumes: volumes, now: now)
        _ = machine.commit(Self.state(desired), now: now)
        return machine
    }

    static func accepts(_ actions: [ReconcileAction]) -> [(offers: [OfferID], launches: [LaunchRequest], destroy: [Resource])] {
        actions.compactMap { if case .accept(let offers, let launches, let destroy) = $0 { (offers, launches, destroy) } else { nil } }
    }

    @Test("The first launch reserves and creates its slot's volume where it lands; after a failure it relaunches there, on the same volume")
    func machineCreatesThenReuses() {
        let now = ContinuousClock.now
        var machine = Self.machine(desired: Self.db(), now: now)
        let first = Self.accepts(machine.offers([Self.offer("o1", agent: "a0")], now: now))
        #expect(first.count == 1)
        let launch = first.first?.launches.first
        #expect(launch?.slot == 0 && launch?.newVolumes.count == 1 && launch?.volumes == launch?.newVolumes)
        #expect(launch?.newVolumes.first?.volume?.id == "capstan.db.0.data" && launch?.newVolumes.first?.role == "capstan")
        #expect(machine.volumes[AppVolumeID(app: "db", slot: 0, path: "data")]?.agentID == AgentID("a0"))

        // The task fails; a roomier agent offers first, then a0 with the volume: the instance goes back to a0.
        let id = launch!.taskID
        _ = machine.update(TaskUpdate(taskID: id, agentID: AgentID("a0"), phase: .failed, stateName: "TASK_FAILED", isFailure: false), isTerminal: true, now: now)
        let later = now + .seconds(600)
        let elsewhere = Self.accepts(machine.offers([Self.offer("o2", agent: "a9", disk: 100_000)], now: later))
        #expect(elsewhere.isEmpty, "an instance whose volume is on a0 never launches on a9")
        let volume = machine.volumes[AppVolumeID(app: "db", slot: 0, path: "data")]!
        let back = Self.accepts(machine.offers([Self.offer("o3", agent: "a0", volumes: [volume])], now: later))
        #expect(back.count == 1 && back.first?.launches.first?.agentID == AgentID("a0"))
        #expect(back.first?.launches.first?.newVolumes.isEmpty == true && back.first?.launches.first?.volumes == [volume.resource])
    }

    @Test("A rolling update of an app with volumes kills first: no replacement while the old task holds the volume")
    func rolloutKillsFirst() {
        let now = ContinuousClock.now
        let old = Self.db(instances: 1, env: ["V": "1"])
        var new = Self.db(instances: 1, env: ["V": "2"])
        new.spec.update = UpdateStrategy(minHealthy: .percent(100), maxSurge: .count(1))
        let volume = Self.volume(slot: 0, on: "a0")
        var machine = Self.machine(tasks: [Self.task(old, slot: 0, on: "a0", volume: volume)], volumes: [volume], desired: new, now: now)
        let actions = machine.offers([Self.offer("o1", agent: "a0"), Self.offer("o2", agent: "a1")], now: now)
        #expect(Self.accepts(actions).isEmpty, "no surge: the volume is in use")
        #expect(actions.contains { if case .kill(let kill) = $0 { kill.taskID == TaskID("db.t0") } else { false } }, "\(actions)")
    }

    @Test("destroy: confirm sends DESTROY for an offered volume no task uses, and forgets it")
    func machineDestroys() {
        let now = ContinuousClock.now
        let volume = Self.volume(slot: 0, on: "a0")
        var machine = Self.machine(volumes: [volume], desired: Self.db(instances: 1, destroy: true), now: now)
        let accepts = Self.accepts(machine.offers([Self.offer("o1", agent: "a0", volumes: [volume])], now: now))
        #expect(accepts.count == 1 && accepts.first?.destroy == [volume.resource])
        #expect(machine.volumes.isEmpty)
        #expect(accepts.first?.launches.first.map { $0.volumes.isEmpty } ?? true, "the instance mounts no volume marked destroy")
    }
}
