import CapstanAPI
import CapstanCore
import Foundation
import Logging

/// The GitOps controller: it carries out what its ``ReconcileMachine`` decides. The machine (pure, in
/// CapstanCore) runs the same ``Planner`` as `capstan diff` and returns actions; this actor turns them into
/// scheduler calls, history rows and git reads, and gives the machine the time from an injected clock.
///
/// ``ReconcilerFramework`` feeds it events and sends the scheduler calls it returns, so its behaviour can be
/// driven and checked directly.
public actor Reconciler {
    let configuration: ReconcilerConfiguration
    let store: HistoryStore
    let logger: Logger
    let clock: @Sendable () -> ContinuousClock.Instant

    var machine: ReconcileMachine
    /// The newest commit read from git (valid or not).
    var headCommit: CommitID?
    var lastSync: Date?
    /// Why the newest commit was not applied (invalid, unreadable); the machine's own problem otherwise.
    var sourceError: String?
    var diagnostics: [String] = []
    /// Calls decided outside an offer or tick (the kills of a commit), sent with the next ones.
    var queuedCalls: [SchedulerCall] = []
    /// Since when, and why, the master cannot be reached (nil while subscribed).
    var masterLost: (since: Date, master: String, error: String)?
    /// Reads an app's manifest at an older commit, for automatic reverts.
    var manifestAtCommit: (@Sendable (_ app: AppName, _ commit: CommitID) async -> Workload?)?
    /// Apps pinned by `capstan rollback`, by name (kept in the history store).
    var pins: [String: AppPin] = [:]
    /// Reads commits for ``load(commit:)`` and `capstan rollback`; set by the daemon.
    var loader: DesiredStateLoader?

    public init(
        configuration: ReconcilerConfiguration, store: HistoryStore, logger: Logger,
        clock: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        makeTaskID: (@Sendable (Workload) -> TaskID)? = nil
    ) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
        self.clock = clock
        self.machine = ReconcileMachine(
            configuration: .init(
                maxDeletions: configuration.maxDeletions, allowEmpty: configuration.allowEmpty,
                declineSeconds: configuration.declineSeconds, role: configuration.role, principal: configuration.principal),
            makeTaskID: makeTaskID ?? { TaskInfoBuilder(workload: $0, commit: CommitID(hex: "")).newTaskID() })
    }

    /// Lets automatic reverts read an app's manifest at the commit it last converged at.
    public func setManifestReader(_ reader: @escaping @Sendable (_ app: AppName, _ commit: CommitID) async -> Workload?) {
        manifestAtCommit = reader
    }

    func now() -> ContinuousClock.Instant { clock() }

    /// Why the desired state is not what git says: a source problem, else the machine's (budget, empty commit).
    var syncError: String? { sourceError ?? machine.syncProblem }

    /// Carries out the machine's actions in order; answers the scheduler calls among them.
    func perform(_ actions: [ReconcileAction]) async -> [SchedulerCall] {
        var calls: [SchedulerCall] = []
        for action in actions {
            switch action {
            case .accept(let offers, let launches, let destroy):
                calls.append(SchedulerCall(
                    type: .accept,
                    accept: .init(offerIDs: offers, operations: acceptOperations(launches, destroy: destroy), filters: Filters(refuseSeconds: 0))))
            case .decline(let offers, let seconds):
                calls.append(SchedulerCall(type: .decline, decline: .init(offerIDs: offers, filters: Filters(refuseSeconds: seconds))))
            case .kill(let kill):
                let policy = kill.gracePeriod.map { KillPolicy(gracePeriod: DurationInfo(nanoseconds: TaskInfoBuilder.nanoseconds($0))) }
                calls.append(SchedulerCall(type: .kill, kill: .init(taskID: kill.taskID, agentID: kill.agentID, killPolicy: policy)))
            case .revive:
                calls.append(SchedulerCall(type: .revive, revive: .init()))
            case .suppress:
                calls.append(SchedulerCall(type: .suppress, suppress: .init()))
            case .journal(let entry):
                await journal(entry)
            case .markConverged(let mark):
                do {
                    try await store.setConverged(app: mark.app.value, commit: mark.commit, specLabel: mark.template)
                } catch {
                    logger.error("Could not record a convergence", metadata: ["app": "\(mark.app)", "error": "\(error)"])
                }
            case .forgetApp(let app):
                try? await store.removeApp(app.value)
            case .recordSync(let note):
                let outcome = SyncOutcome(rawValue: note.outcome.rawValue) ?? .failed
                try? await store.recordSync(commit: note.commit, outcome: outcome, message: note.message)
            case .readManifest(let app, let commit):
                let workload = await manifestAtCommit?(app, commit)
                calls += await perform(machine.manifestRead(app: app, commit: commit, workload: workload, now: now()))
            }
        }
        return calls
    }

    /// One ACCEPT's operations: RESERVE and CREATE of the launches' new persistent volumes, the LAUNCH, then DESTROY and
    /// UNRESERVE of the volumes whose manifest says `destroy: confirm` (the master applies them in this order).
    func acceptOperations(_ launches: [LaunchRequest], destroy: [Resource]) -> [Offer.Operation] {
        var operations: [Offer.Operation] = []
        let created = launches.flatMap(\.newVolumes)
        if !created.isEmpty {
            operations.append(Offer.Operation(type: .reserve, reserve: .init(resources: Resources(created.map(\.withoutVolume)).mesos)))
            operations.append(Offer.Operation(type: .create, create: .init(volumes: Resources(created).mesos)))
            for volume in created {
                logger.info("Creating a persistent volume", metadata: ["volume": "\(volume.volume?.id ?? "")", "agent": "\(launches[0].agentID)", "disk": "\(volume)"])
            }
        }
        if !launches.isEmpty {
            let infos = launches.map {
                TaskInfoBuilder(workload: $0.workload, commit: $0.commit)
                    .taskInfo(agent: $0.agentID, ports: $0.ports, taskID: $0.taskID, slot: $0.slot, persistentVolumes: $0.volumes)
            }
            for (app, count) in Dictionary(launches.map { ($0.workload.name, 1) }, uniquingKeysWith: +).sorted(by: { $0.key < $1.key }) {
                logger.info("Launching", metadata: ["app": "\(app)", "instances": "\(count)", "agent": "\(launches[0].agentID)"])
            }
            operations.append(Offer.Operation(type: .launch, launch: .init(taskInfos: infos)))
        }
        if !destroy.isEmpty {
            for volume in destroy {
                logger.warning("Destroying a persistent volume (its manifest says destroy: confirm)", metadata: ["volume": "\(volume.volume?.id ?? "")"])
            }
            operations.append(Offer.Operation(type: .destroy, destroy: .init(volumes: Resources(destroy).mesos)))
            operations.append(Offer.Operation(type: .unreserve, unreserve: .init(resources: Resources(destroy.map(\.withoutVolume)).mesos)))
        }
        return operations
    }

    /// Records a history row; a store failure is logged, never fatal to reconciliation.
    func journal(_ entry: JournalEntry) async {
        guard let event = HistoryEvent(rawValue: entry.event.rawValue) else { return }
        switch entry.event {
        case .failed: logger.error("Rollout failed", metadata: ["app": "\(entry.app)", "reason": "\(entry.message)"])
        case .reverted: logger.warning("Rollout missed its deadline; reverted", metadata: ["app": "\(entry.app)", "to": "\(entry.commit.prefix(12))"])
        default: break
        }
        do {
            _ = try await store.record(HistoryEntry(
                app: entry.app.value, event: event, commit: String(entry.commit.prefix(12)), specLabel: entry.spec, message: entry.message))
        } catch {
            logger.error("Could not record history", metadata: ["app": "\(entry.app)", "error": "\(error)"])
        }
    }

    /// Calls queued since the last send, then `calls`.
    func withQueued(_ calls: [SchedulerCall]) -> [SchedulerCall] {
        defer { queuedCalls = [] }
        return queuedCalls + calls
    }
}
