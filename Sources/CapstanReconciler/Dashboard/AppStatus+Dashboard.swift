/// An app's state split as Argo CD shows it: whether what runs matches git (sync) apart from whether it is healthy.
public struct AppColumns: Codable, Sendable, Equatable {
    /// `Synced`, `OutOfSync` or `Unknown`.
    public var sync: String
    /// `Healthy`, `Progressing`, `Degraded`, `Missing` or `Unknown`.
    public var health: String
}

extension AppStatus {
    /// Sync and health, derived from the phase and counts the reconciler already reports (no decision of its own):
    /// an app whose running tasks carry the desired commit at the desired count is Synced even when unhealthy
    /// (Synced and Degraded, as Argo CD shows a healthy-check failure after a sync).
    public var columns: AppColumns {
        if phase == .unknown { return AppColumns(sync: "Unknown", health: "Unknown") }
        let matchesGit = phase == .synced
            || (desiredCommit != nil && runningCommit == desiredCommit && runningInstances == desiredInstances)
        let health: String
        switch phase {
        case .synced: health = "Healthy"
        case _ where kind == "App" && desiredInstances > 0 && runningInstances == 0 && phase != .progressing: health = "Missing"
        case .degraded, .failed: health = "Degraded"
        default: health = "Progressing"
        }
        return AppColumns(sync: matchesGit ? "Synced" : "OutOfSync", health: health)
    }
}

/// What the reconciler dashboard reads (`GET /api/v1/dashboard`): the status document plus each app's sync and
/// health columns.
public struct ReconcilerDashboardDocument: Codable, Sendable, Equatable {
    public var status: ReconcilerStatus
    /// App name → its columns.
    public var columns: [String: AppColumns]

    public init(status: ReconcilerStatus) {
        self.status = status
        self.columns = Dictionary(status.apps.map { ($0.name, $0.columns) }, uniquingKeysWith: { first, _ in first })
    }
}
