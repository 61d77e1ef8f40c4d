/// What the reconciler remembers about one desired app or job between events: the manifest it deploys
/// (the commit's, or an older one after an automatic revert), restart backoff, rollout progress and
/// deadlines, and the convergence it last recorded. What should change is never kept here: the
/// ``Planner`` derives it from the manifest and the tasks on every step.
public struct AppMemory: Sendable {
    public var workload: Workload
    /// The commit `workload` was read at.
    public var commit: CommitID
    /// When the current rollout (a new template, a scale, a create) started or last made progress.
    public var lastProgress: ContinuousClock.Instant
    /// Healthy tasks of the desired template and live tasks of other templates at the last progress check.
    public var progressMark: ProgressMark?
    /// Consecutive task failures, for restart backoff.
    public var failures = 0
    public var lastFailure: String?
    public var nextLaunchAt: ContinuousClock.Instant?
    /// Set when the rollout missed its progress deadline; cleared by a new template.
    public var failedReason: String?
    /// The commit this app was reverted from, after an automatic revert.
    public var revertedFrom: CommitID?
    /// Why a revert was asked for, while its manifest is being read.
    public var revertPending: String?
    /// The convergence last recorded, so each is recorded once.
    public var recordedConverged: ConvergenceMark?
    /// Why the last offers could not take an instance of this app.
    public var placementProblem: String?

    public init(workload: Workload, commit: CommitID, now: ContinuousClock.Instant) {
        self.workload = workload
        self.commit = commit
        self.lastProgress = now
    }

    public var name: AppName { workload.name }
    public var template: String { workload.templateLabel }
    public var isJob: Bool { workload.kind == .job }
}

/// Rollout progress at one check: healthy tasks of the desired template, live tasks of other templates.
public struct ProgressMark: Sendable, Hashable {
    public var healthy: Int
    public var old: Int
}

/// An agent's hostname and attributes, as constraints see them.
public struct AgentHost: Sendable, Hashable {
    public var hostname: String
    public var attributes: [String: String]

    public init(hostname: String, attributes: [String: String]) {
        self.hostname = hostname
        self.attributes = attributes
    }
}
