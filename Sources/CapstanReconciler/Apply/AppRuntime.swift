import CapstanCore

/// The reconciler's working state for one app or job of the desired commit.
struct AppRuntime: Sendable {
    var workload: Workload
    /// The full commit `workload` was read at.
    var commit: String
    /// When the current rollout (a new template, a scale, or a create) started or last made progress.
    var lastProgress: ContinuousClock.Instant
    /// (healthy tasks of the desired template, live tasks of other templates) at the last progress check; nil until
    /// the first check of a rollout.
    var progressMark: (healthy: Int, old: Int)?
    /// Consecutive task failures, for restart backoff.
    var failures = 0
    var lastFailure: String?
    var nextLaunchAt: ContinuousClock.Instant?
    /// Set when the rollout missed its progress deadline; cleared by a new template.
    var failedReason: String?
    /// The commit this app was reverted from, after an automatic revert.
    var revertedFrom: String?
    /// Jobs: completions of the current template.
    var completions = 0
    /// The (commit, template) last recorded as converged, to record each convergence once.
    var recordedConverged: String?
    /// Why the last offers could not take an instance of this app.
    var placementProblem: String?

    init(workload: Workload, commit: String, now: ContinuousClock.Instant) {
        self.workload = workload
        self.commit = commit
        self.lastProgress = now
    }

    var name: String { workload.name }
    var template: String { workload.templateLabel }
    var isJob: Bool { workload.kind == .job }
}
