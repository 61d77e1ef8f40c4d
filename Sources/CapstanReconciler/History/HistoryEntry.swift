import Foundation

/// What happened to an app; stored and answered as its raw string.
public enum HistoryEvent: String, Codable, Sendable, CaseIterable {
    /// The app appeared in git and its first tasks were launched.
    case created
    /// Its task template changed (image, command, env, resources…): a rolling update started.
    case updated
    /// Only its instance count changed.
    case scaled
    /// It left git and its tasks were killed (pruned).
    case deleted
    /// Every desired instance runs the desired spec and is healthy.
    case converged
    /// Instances are unhealthy or the rollout stalls.
    case degraded
    /// The reconciler gave up on a rollout or a launch.
    case failed
    /// A failed rollout was rolled back to the last converged spec.
    case reverted
    /// The commit's manifests did not validate; nothing changed.
    case invalidCommit
    /// Tasks were relaunched after they exited or their agent was lost.
    case restarted
    /// Reconciliation was paused (`capstan suspend`).
    case suspended
    /// Reconciliation resumed (`capstan resume`).
    case resumed
    /// Pinned to an earlier converged commit (`capstan rollback`).
    case pinned
    /// The pin was lifted (`capstan rollback --clear`, or a newer commit changed the app's manifest).
    case unpinned
}

/// One line of an app's history.
public struct HistoryEntry: Codable, Sendable, Equatable, Identifiable {
    /// The row ID, assigned by the store; nil before the entry is recorded.
    public var id: Int64?
    public var app: String
    public var event: HistoryEvent
    /// The (short) commit the event concerns.
    public var commit: String
    /// The `capstan.spec` template label of the app at that commit, when there is one.
    public var specLabel: String?
    /// One sentence for people.
    public var message: String
    public var time: Date

    public init(
        id: Int64? = nil, app: String, event: HistoryEvent, commit: String, specLabel: String? = nil,
        message: String, time: Date = Date()
    ) {
        self.id = id
        self.app = app
        self.event = event
        self.commit = commit
        self.specLabel = specLabel
        self.message = message
        self.time = time
    }
}

/// The state an app last converged to: what a restarted reconciler compares against and reverts to.
public struct ConvergedApp: Codable, Sendable, Equatable {
    public var commit: String
    public var specLabel: String
    public var time: Date

    public init(commit: String, specLabel: String, time: Date = Date()) {
        self.commit = commit
        self.specLabel = specLabel
        self.time = time
    }
}

/// How one pass over a git commit ended.
public enum SyncOutcome: String, Codable, Sendable, CaseIterable {
    /// The manifests were valid and the plan was applied (or there was nothing to do).
    case applied
    /// The manifests did not validate; the previous commit keeps running.
    case invalid
    /// Reading git or talking to the master failed.
    case failed
}

/// One pass of the reconciler over a commit.
public struct SyncRecord: Codable, Sendable, Equatable {
    public var commit: String
    public var outcome: SyncOutcome
    public var message: String
    public var time: Date

    public init(commit: String, outcome: SyncOutcome, message: String, time: Date = Date()) {
        self.commit = commit
        self.outcome = outcome
        self.message = message
        self.time = time
    }
}
