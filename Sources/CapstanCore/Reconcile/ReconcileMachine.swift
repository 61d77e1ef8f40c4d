/// The GitOps reconciler's decisions as a pure state machine (after hummingbird's connection state
/// machines): it takes a commit's desired state, the master's tasks, offers, status updates and the time,
/// and returns ``ReconcileAction``s. It does no I/O and reads no clock: its owner carries the actions out
/// and passes `now` in, so tests drive it with any clock.
///
/// What should change is decided by ``Planner/plan(desired:actual:runningSpecs:)`` alone — the same
/// plan `capstan diff` prints. The machine adds only runtime memory (``AppMemory``) and pace: rolling
/// updates within `minHealthy`/`maxSurge` (``RolloutDecision``), `dependsOn` order, restart backoff,
/// progress deadlines with automatic revert, the deletion budget, and REVIVE/SUPPRESS.
public struct ReconcileMachine: Sendable {
    public struct Configuration: Sendable {
        /// At most this many apps deleted by one sync; a sync that would delete more deletes none. Nil: no limit.
        public var maxDeletions: Int?
        /// Apply a commit that declares no apps or jobs (deleting everything); refused when false.
        public var allowEmpty: Bool
        /// How long declined offers stay away when nothing needs them.
        public var declineSeconds: Double
        /// A task of the current template healthy this long resets its app's restart backoff.
        public var backoffResetAfter: Duration

        /// The framework's role: its apps' persistent volumes are reserved for it (none can be for `*`).
        public var role: String
        /// The framework's principal, named by its reservations and volumes; nil without authentication.
        public var principal: String?

        public init(
            maxDeletions: Int? = nil, allowEmpty: Bool = false, declineSeconds: Double = 5, backoffResetAfter: Duration = .seconds(5),
            role: String = "capstan", principal: String? = nil
        ) {
            self.role = role
            self.principal = principal
            self.maxDeletions = maxDeletions
            self.allowEmpty = allowEmpty
            self.declineSeconds = declineSeconds
            self.backoffResetAfter = backoffResetAfter
        }
    }

    /// What became of a commit.
    public enum CommitOutcome: Sendable, Hashable {
        /// The commit's apps are the desired state; the names of the plan's entries by action.
        case applied(created: [AppName], updated: [AppName], scaled: [AppName], deleted: [AppName])
        /// Kept until the master's tasks are known (``seed(tasks:agents:converged:now:)``), then applied.
        case deferred
        /// Nothing changed; the reason.
        case refused(String)
    }

    public let configuration: Configuration
    /// Names a new task: `web.1a2b3c4d.5e6f7a8b` in the daemon, a counter in tests.
    let makeTaskID: @Sendable (Workload) -> TaskID

    /// The desired apps and jobs of the applied commit, by name, with their runtime memory. Only a new commit and a
    /// revert change their workloads (and so the plan): they drop ``planCache`` themselves; memory alone does not.
    public internal(set) var apps: [AppName: AppMemory] = [:]
    /// The last commit applied.
    public internal(set) var appliedCommit: CommitID?
    /// A commit that arrived before the master's tasks were known.
    var pendingCommit: DesiredState?
    /// Desired states of recent commits, by 12-digit commit: explanations of updates read the manifests here.
    var recentStates: [DesiredState] = []
    /// The framework's tasks: live ones, unreachable ones, and finished runs of jobs.
    public internal(set) var tasks: [TaskID: ReconciledTask] = [:] { didSet { planCache = nil } }
    /// Hostname and attributes of agents seen in offers or at start-up (for constraints on existing tasks).
    var agentHosts: [AgentID: AgentHost] = [:]
    /// The last convergence of each app (from the history at start-up, then as they happen).
    public internal(set) var converged: [AppName: ConvergenceMark] = [:] { didSet { planCache = nil } }
    /// Apps the plan deletes but the deletion budget holds back until the next commit.
    public internal(set) var heldDeletes: Set<AppName> = [] { didSet { planCache = nil } }
    /// Why the applied commit was not applied whole (the deletion budget), or was refused.
    public internal(set) var syncProblem: String?
    var launchCounter = 0
    /// Kills decided and not yet handed out as actions.
    var pendingKills: [TaskID] = []
    /// True once the master's tasks are known; before that nothing is launched, killed or journalled.
    public internal(set) var seeded = false
    /// Offers are suppressed because nothing needs them.
    var suppressed = false
    /// Offers were declined with the long filter since the last REVIVE: new work must revive to see them soon.
    var declinedForLong = false
    var planCache: Plan?
    /// The apps' persistent volumes, by ID: read from the master at start-up, from offers, and recorded when the
    /// machine creates one (until the next offer or start-up shows it); forgotten when it destroys one.
    public internal(set) var volumes: [AppVolumeID: ObservedVolume] = [:] { didSet { planCache = nil } }
    /// Apps whose reconciliation is paused (`capstan suspend`): the plan holds them (``Planner``), so nothing is
    /// launched or killed for them and their rollout deadlines do not run.
    public var suspended: Set<AppName> = [] { didSet { if suspended != oldValue { planCache = nil } } }

    public init(configuration: Configuration = Configuration(), makeTaskID: @escaping @Sendable (Workload) -> TaskID) {
        self.configuration = configuration
        self.makeTaskID = makeTaskID
    }

    // MARK: The plan

    /// The desired state being deployed: each app's manifest (an older one for an app that was reverted).
    public var desired: DesiredState {
        let commit = appliedCommit ?? ""
        var state = DesiredState(commit: commit, workloads: apps.values.map(\.workload).sorted { $0.name < $1.name })
        for (name, memory) in apps where memory.commit != commit { state.appCommits[name] = memory.commit }
        return state
    }

    /// What the cluster runs, as the planner sees it.
    public var snapshot: ClusterSnapshot {
        var completed: [AppName: String] = [:]
        for (app, mark) in converged where mark.instances == nil { completed[app] = mark.template }
        return ClusterSnapshot(tasks: tasks.values.map(\.planned), agents: nil, completedJobs: completed, volumes: Array(volumes.values))
    }

    /// The plan for the desired state against the tasks: what the machine carries out.
    public mutating func plan() -> Plan {
        if let planCache { return planCache }
        let plan = Planner.plan(desired: desired, actual: snapshot, runningSpecs: recentStates, suspended: suspended)
        planCache = plan
        return plan
    }

    // MARK: Queries

    /// Live tasks of one app (pending, running, being killed).
    public func liveTasks(of app: AppName) -> [ReconciledTask] {
        tasks.values.filter { $0.app == app && $0.isLive }
    }

    /// The rollout decision for an app's live tasks. It counts as converged only once no task of the app is
    /// still being killed.
    public func decision(for memory: AppMemory) -> RolloutDecision {
        let spec = memory.workload.spec
        let live = liveTasks(of: memory.name)
        var minHealthy = spec.update.minHealthy.resolved(instances: spec.instances)
        var maxSurge = spec.update.maxSurge.resolved(instances: spec.instances)
        if !VolumeSlots.declared(spec).isEmpty {
            // An instance's volumes can be mounted by one task at a time: its replacement starts only once it has
            // stopped (kill first, as Marathon's resident apps), so no surge, and at least one instance may be down.
            maxSurge = 0
            minHealthy = min(minHealthy, max(0, spec.instances - 1))
        }
        var decision = RolloutDecision.decide(
            instances: spec.instances, template: memory.template, minHealthy: minHealthy, maxSurge: maxSurge,
            tasks: live.map(\.rolloutTask))
        if decision.converged, live.contains(where: { $0.killRequested || $0.observed.phase == .killing }) { decision.converged = false }
        return decision
    }

    /// A job's runs of its current template that finished, and whether it is done (also when its history says so).
    public func jobProgress(_ memory: AppMemory) -> (finished: Int, done: Bool) {
        let finished = tasks.values.filter { $0.app == memory.name && $0.template == memory.template && $0.observed.phase == .finished }.count
        let known = converged[memory.name].map { $0.instances == nil && $0.template == memory.template } ?? false
        return (finished, known || finished >= max(1, memory.workload.spec.instances))
    }

    /// Nil when every app this one depends on is ready (apps converged, jobs done), else what it waits for.
    public func dependencyWait(_ memory: AppMemory) -> String? {
        for dependency in memory.workload.spec.dependsOn.sorted() {
            guard let other = apps[dependency] else { return "waiting for \(dependency), which is not deployed" }
            if other.isJob {
                if !jobProgress(other).done { return "waiting for job \(dependency) to finish" }
            } else if !decision(for: other).converged {
                return "waiting for \(dependency) to be healthy"
            }
        }
        return nil
    }

    /// How many instances of an app to launch now: the plan's new instances, at the pace the rollout allows,
    /// and none while it waits (a failed rollout, a revert being read, backoff, dependencies).
    public func launchesWanted(_ memory: AppMemory, item: PlanItem?, now: ContinuousClock.Instant) -> Int {
        guard let item, item.newInstances > 0, memory.failedReason == nil, memory.revertPending == nil else { return 0 }
        if let next = memory.nextLaunchAt, next > now { return 0 }
        guard dependencyWait(memory) == nil else { return 0 }
        if memory.isJob { return item.newInstances }
        return min(item.newInstances, decision(for: memory).launch)
    }

    /// Apps in an order that launches dependencies first (names break ties).
    func launchOrder() -> [AppName] {
        var order: [AppName] = []
        var placed = Set<AppName>()
        var visiting = Set<AppName>()
        func visit(_ name: AppName) {
            guard !placed.contains(name), !visiting.contains(name), let memory = apps[name] else { return }
            visiting.insert(name)
            for dependency in memory.workload.spec.dependsOn.sorted() { visit(dependency) }
            order.append(name)
            placed.insert(name)
        }
        for name in apps.keys.sorted() { visit(name) }
        return order
    }

    // MARK: Kills

    /// Marks a task as being killed; its KILL goes out with the next actions.
    mutating func requestKill(_ id: TaskID) {
        guard var task = tasks[id], task.isLive, !task.killRequested else { return }
        task.killRequested = true
        tasks[id] = task
        pendingKills.append(id)
    }

    /// The KILL actions for every kill decided since the last call, with the app's kill grace period.
    mutating func drainKills() -> [ReconcileAction] {
        defer { pendingKills = [] }
        return pendingKills.compactMap { id in
            guard let task = tasks[id] else { return nil }
            return .kill(KillRequest(taskID: id, agentID: task.observed.agentID, gracePeriod: apps[task.app]?.workload.spec.killGracePeriod))
        }
    }

    /// The kills the plan and the rollout allow now for one item: every task of a delete (unless held by the
    /// deletion budget), a job's outdated tasks, and what an app's rollout step may replace or scale away.
    mutating func requestPlannedKills(_ item: PlanItem) {
        if item.suspended { return }
        if item.action == .delete {
            guard !heldDeletes.contains(item.name) else { return }
            for id in item.tasks { requestKill(id) }
            return
        }
        guard let memory = apps[item.name], memory.failedReason == nil, memory.revertPending == nil else { return }
        if memory.isJob {
            for id in item.outdatedTasks { requestKill(id) }
        } else {
            for id in decision(for: memory).kill { requestKill(TaskID(id)) }
        }
    }
}
