import CapstanAPI
import CapstanCore
import Foundation
import Logging

/// The GitOps controller's brain: it holds the desired apps of the last valid commit and the tasks the master
/// reports, and on every offer, status update and tick decides what to launch and what to kill so the two
/// converge — rolling updates within `minHealthy`/`maxSurge`, `dependsOn` order, restart backoff, progress
/// deadlines with automatic revert, self-healing and pruning with a deletion budget.
///
/// It does no I/O of its own beyond the history store: ``ReconcilerFramework`` feeds it events and sends the
/// scheduler calls it returns, so its decisions can be driven and checked directly.
public actor Reconciler {
    let configuration: ReconcilerConfiguration
    let store: HistoryStore
    let logger: Logger
    let clock = ContinuousClock()

    /// The desired apps, by name, from the last commit that was valid and applied.
    var apps: [String: AppRuntime] = [:]
    /// The last valid commit applied.
    var appliedCommit: String?
    /// The newest commit read from git (valid or not).
    var headCommit: String?
    var lastSync: Date?
    /// Why the newest commit (or a prune) was not applied; nil when all is well.
    var syncError: String?
    var diagnostics: [String] = []

    /// Every live task of this framework, plus terminal ones until their update is processed.
    var tasks: [TaskID: TrackedTask] = [:]
    /// Hostname and attributes of agents seen in offers or at start-up (for constraints on existing tasks).
    var agentHosts: [AgentID: AgentHost] = [:]
    var launchCounter = 0
    /// Kills decided but not yet sent.
    var pendingKills: [TaskID] = []
    /// True once the tasks on the master have been read; before that nothing is launched or pruned.
    var seeded = false
    /// Offers are suppressed because nothing needs them.
    var suppressed = false
    /// Offers were declined with the long filter since the last REVIVE: new work must revive to see them soon.
    var declinedForLong = false
    /// Reads an app's manifest at an older commit, for automatic reverts.
    var manifestAtCommit: (@Sendable (_ app: String, _ commit: String) async -> Workload?)?

    struct AgentHost: Sendable {
        var hostname: String
        var attributes: [String: String]
    }

    public init(configuration: ReconcilerConfiguration, store: HistoryStore, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
    }

    /// Lets automatic reverts read an app's manifest at the commit it last converged at.
    public func setManifestReader(_ reader: @escaping @Sendable (_ app: String, _ commit: String) async -> Workload?) {
        manifestAtCommit = reader
    }

    func now() -> ContinuousClock.Instant { clock.now }

    /// Records a history row; a store failure is logged, never fatal to reconciliation.
    func journal(_ app: String, _ event: HistoryEvent, commit: String, spec: String? = nil, _ message: String) async {
        do {
            _ = try await store.record(HistoryEntry(
                app: app, event: event, commit: String(commit.prefix(12)), specLabel: spec, message: message))
        } catch {
            logger.error("Could not record history", metadata: ["app": "\(app)", "error": "\(error)"])
        }
    }

    /// Live tasks of one app.
    func liveTasks(of app: String) -> [TrackedTask] {
        tasks.values.filter { $0.app == app && $0.isLive }
    }
}
