/// The difference between what git declares and what the cluster runs, one ``PlanItem`` per app or job,
/// sorted by name. A value: computing it does nothing to the cluster (``Planner/plan(desired:actual:runningSpecs:)``).
public struct Plan: Sendable, Hashable {
    /// The commit of the desired state (as given in ``DesiredState/commit``).
    public var commit: CommitID
    /// Every app and job that is desired or still has live tasks, sorted by name.
    public var items: [PlanItem]
    /// Every app volume that exists or that a manifest declares, sorted by ID, with what happens to it.
    public var volumes: [PlannedVolume]

    public init(commit: CommitID, items: [PlanItem], volumes: [PlannedVolume] = []) {
        self.commit = commit
        self.items = items.sorted { $0.name < $1.name }
        self.volumes = volumes.sorted { $0.id < $1.id }
    }

    /// Whether applying the plan would launch or kill anything (any item but `unchanged`) or destroy a volume.
    public var hasChanges: Bool { items.contains { $0.action != .unchanged } || volumesToDestroy > 0 }

    /// How many volumes the plan destroys (`destroy: confirm`).
    public var volumesToDestroy: Int { volumes.reduce(0) { $0 + ($1.action == .destroy ? 1 : 0) } }

    /// Items that need an action, in name order.
    public var changes: [PlanItem] { items.filter { $0.action != .unchanged } }

    /// Items whose new instances do not all fit on the agents' free resources.
    public var willNotFit: [PlanItem] { items.filter { $0.fit?.fits == false } }

    /// How many items have each action.
    public func count(_ action: PlanAction) -> Int { items.reduce(0) { $0 + ($1.action == action ? 1 : 0) } }

    /// `2 to create, 1 to update, 0 to scale, 1 to delete, 7 unchanged`.
    public var summary: String {
        "\(count(.create)) to create, \(count(.update)) to update, \(count(.scale)) to scale, "
            + "\(count(.delete)) to delete, \(count(.unchanged)) unchanged"
            + (suspendedCount > 0 ? " (\(suspendedCount) suspended)" : "")
    }

    /// How many items are suspended (counted as unchanged).
    public var suspendedCount: Int { items.reduce(0) { $0 + ($1.suspended ? 1 : 0) } }
}

/// What to do for one app or job.
public enum PlanAction: String, Sendable, Hashable, CaseIterable {
    /// Nothing runs yet (an app without live tasks, a job without a finished or running task of its
    /// current template): launch `desired` instances.
    case create
    /// Some live tasks run another template: replace them (rolling, per `spec.update`), ending at `desired`.
    case update
    /// Every live task runs the desired template but there are `current` instead of `desired`.
    case scale
    /// Live tasks of an app or job that is no longer in git: kill them (prune).
    case delete
    /// Nothing to launch or kill. Changes to orchestration fields alone (`instances` aside) land here
    /// with their ``PlanItem/changes``: they never restart a task.
    case unchanged
}

/// One field of the canonical spec that differs: `spec.env.MODE` from `"dev"` to `"prod"`.
/// `old` is nil for a field that was added (a new map key), `new` nil for one that was removed.
public struct FieldChange: Sendable, Hashable {
    /// A dotted path into the canonical form: `spec.resources.mem`, `spec.volumes[1].path`, `metadata.labels.team`.
    public var path: String
    public var old: CanonicalValue?
    public var new: CanonicalValue?

    public init(path: String, old: CanonicalValue?, new: CanonicalValue?) {
        self.path = path
        self.old = old
        self.new = new
    }
}

/// The plan for one app or job.
public struct PlanItem: Sendable, Hashable {
    public var name: AppName
    public var kind: WorkloadKind
    public var action: PlanAction
    /// Live instances (pending or running tasks) now.
    public var currentInstances: Int
    /// Instances once the plan is applied (0 for a delete; for a job, its `instances` while it must run).
    public var desiredInstances: Int
    /// Field-level changes from the manifest the outdated tasks were launched from to the desired one;
    /// for a scale, `spec.instances` from the current count. Empty when that manifest could not be read
    /// (see ``notes``).
    public var changes: [FieldChange]
    /// Whether the instances this item launches fit on the agents; nil when it launches nothing.
    public var fit: PlacementFit?
    /// How many instances of the desired template this item launches: a create's `desired`, a scale-up's
    /// difference, an update's replacements (not yet running the desired template), a job's missing runs.
    public var newInstances: Int
    /// The live tasks, sorted by ID.
    public var tasks: [TaskID]
    /// The live tasks that run another template than the desired one (to be replaced or, for a delete, all).
    public var outdatedTasks: [TaskID]
    /// The distinct `capstan.commit` labels of the live tasks, sorted.
    public var runningCommits: [String]
    /// The desired template label (nil for a delete).
    public var templateLabel: String?
    /// Sentences worth showing: a rollout already under way, a manifest that could not be read.
    public var notes: [String]
    /// The app is suspended (`capstan suspend`): the action is `unchanged` and the first note says what it would be.
    public var suspended = false
    /// The 12-hex commit the app's manifest was read at when it is not the plan's commit (`capstan rollback` pinned it).
    public var pinnedCommit: String?

    public init(
        name: AppName, kind: WorkloadKind, action: PlanAction, currentInstances: Int, desiredInstances: Int,
        changes: [FieldChange] = [], fit: PlacementFit? = nil, newInstances: Int = 0, tasks: [TaskID] = [], outdatedTasks: [TaskID] = [],
        runningCommits: [String] = [], templateLabel: String? = nil, notes: [String] = []
    ) {
        self.name = name
        self.kind = kind
        self.action = action
        self.currentInstances = currentInstances
        self.desiredInstances = desiredInstances
        self.changes = changes
        self.fit = fit
        self.newInstances = newInstances
        self.tasks = tasks
        self.outdatedTasks = outdatedTasks
        self.runningCommits = runningCommits
        self.templateLabel = templateLabel
        self.notes = notes
    }
}
