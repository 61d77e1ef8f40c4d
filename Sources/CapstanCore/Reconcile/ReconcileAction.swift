/// What the ``ReconcileMachine`` asks its owner to do. The machine decides; the owner (the `Reconciler`
/// actor) carries actions out in order: scheduler calls, history rows, git reads.
public enum ReconcileAction: Sendable, Hashable {
    /// Launch these instances on the offers of one agent (one ACCEPT of all of `offers`): first RESERVE and CREATE the
    /// new persistent volumes of the launches, then LAUNCH, then DESTROY and UNRESERVE the volumes in `destroy`.
    case accept(offers: [OfferID], launches: [LaunchRequest], destroy: [Resource] = [])
    /// Decline offers that carry nothing, keeping them away for `refuseSeconds`.
    case decline(offers: [OfferID], refuseSeconds: Double)
    /// Kill a task, with its app's grace period.
    case kill(KillRequest)
    /// Ask the master for offers again.
    case revive
    /// Tell the master that no offers are needed.
    case suppress
    /// Record a history row for an app.
    case journal(JournalEntry)
    /// Remember that an app converged at a commit and template (the target of a later automatic revert).
    case markConverged(ConvergenceMark)
    /// Forget an app that left git (its remembered convergence).
    case forgetApp(AppName)
    /// Record the outcome of a sync.
    case recordSync(SyncNote)
    /// Read `app`'s manifest at `commit` and hand it back with ``ReconcileMachine/manifestRead(app:commit:workload:now:)``
    /// (an automatic revert needs it).
    case readManifest(app: AppName, commit: CommitID)
}

/// One instance to launch: which app, from which manifest and commit, on which agent, with which agent ports.
public struct LaunchRequest: Sendable, Hashable {
    public var taskID: TaskID
    public var workload: Workload
    /// The commit `workload` was read at.
    public var commit: CommitID
    public var agentID: AgentID
    /// The agent ports the instance takes (its fixed ports, then the lowest free ones).
    public var ports: [UInt64]
    /// The instance slot of an app with persistent volumes (its `capstan.slot` label); nil without volumes.
    public var slot: Int?
    /// The persistent volumes the instance mounts, as the agent holds them (role, reservation, persistence, path).
    public var volumes: [Resource]
    /// Those of `volumes` that do not exist yet: reserved from the offer's disk and created before the launch.
    public var newVolumes: [Resource]

    public init(
        taskID: TaskID, workload: Workload, commit: CommitID, agentID: AgentID, ports: [UInt64], slot: Int? = nil,
        volumes: [Resource] = [], newVolumes: [Resource] = []
    ) {
        self.taskID = taskID
        self.workload = workload
        self.commit = commit
        self.agentID = agentID
        self.ports = ports
        self.slot = slot
        self.volumes = volumes
        self.newVolumes = newVolumes
    }
}

/// One task to kill.
public struct KillRequest: Sendable, Hashable {
    public var taskID: TaskID
    public var agentID: AgentID
    /// The app's kill grace period; nil when the app is no longer known.
    public var gracePeriod: Duration?

    public init(taskID: TaskID, agentID: AgentID, gracePeriod: Duration?) {
        self.taskID = taskID
        self.agentID = agentID
        self.gracePeriod = gracePeriod
    }
}

/// What a history row says happened to an app.
public enum JournalEvent: String, Sendable, Hashable, CaseIterable {
    case created, updated, scaled, deleted, converged, degraded, failed, reverted, invalidCommit, restarted
    /// Operator controls, journalled by the reconciler itself (`capstan suspend`, `resume`, `rollback`).
    case suspended, resumed, pinned, unpinned

    /// The event a plan item's action is journalled as when a commit is applied; nil for `unchanged`.
    public init?(_ action: PlanAction) {
        switch action {
        case .create: self = .created
        case .update: self = .updated
        case .scale: self = .scaled
        case .delete: self = .deleted
        case .unchanged: return nil
        }
    }
}

/// One history row to record.
public struct JournalEntry: Sendable, Hashable {
    public var app: AppName
    public var event: JournalEvent
    public var commit: String
    /// The template label concerned, if any.
    public var spec: String?
    public var message: String

    public init(app: AppName, event: JournalEvent, commit: String, spec: String? = nil, message: String) {
        self.app = app
        self.event = event
        self.commit = commit
        self.spec = spec
        self.message = message
    }
}

/// An app that converged: every desired instance of `template` healthy (a job: every run finished), at `commit`.
public struct ConvergenceMark: Sendable, Hashable {
    public var app: AppName
    /// The commit's first 12 hex digits.
    public var commit: String
    public var template: String
    /// The instance count it converged at (nil for a job's completion and for marks read from history).
    public var instances: Int?

    public init(app: AppName, commit: String, template: String, instances: Int? = nil) {
        self.app = app
        self.commit = String(commit.prefix(12))
        self.template = template
        self.instances = instances
    }
}

/// The outcome of a sync, for the sync log.
public struct SyncNote: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable { case applied, invalid, failed }
    public var commit: String
    public var outcome: Outcome
    public var message: String

    public init(commit: String, outcome: Outcome, message: String) {
        self.commit = String(commit.prefix(12))
        self.outcome = outcome
        self.message = message
    }
}
