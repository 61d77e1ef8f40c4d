import Foundation

/// Where one app stands against git, in Argo CD's words: Synced when the cluster runs what the desired commit says.
public enum AppPhase: String, Codable, Sendable, CaseIterable {
    /// Every desired instance runs the desired spec and is healthy.
    case synced = "Synced"
    /// A change is being rolled out (creating, scaling, replacing), or instances are starting.
    case progressing = "Progressing"
    /// The rollout is stuck or instances are unhealthy, but the app still runs.
    case degraded = "Degraded"
    /// The reconciler gave up on this app (launches failing, rollout reverted, resources that never fit).
    case failed = "Failed"
    /// The reconciler cannot reach the master, so what runs is not known (the reason says since when).
    case unknown = "Unknown"
}

/// One app (or job) as the reconciler sees it: desired commit and count against what runs.
public struct AppStatus: Codable, Sendable, Equatable {
    public var name: String
    /// "App" or "Job", as in the manifest's `kind`.
    public var kind: String
    /// The 12-hex short commit of the manifest the reconciler wants running.
    public var desiredCommit: String?
    /// The commit that most of the app's running tasks carry (`capstan.commit` label).
    public var runningCommit: String?
    public var desiredInstances: Int
    public var runningInstances: Int
    public var healthyInstances: Int
    public var phase: AppPhase
    /// One sentence saying why the app is not Synced; nil when it is.
    public var reason: String?
    /// Reconciliation is paused (`capstan suspend`): its tasks are observed, never started, killed or updated.
    public var suspended: Bool
    /// The 12-hex commit the app is pinned to by `capstan rollback`; nil when it follows HEAD.
    public var pinned: String?

    public init(
        name: String, kind: String = "App", desiredCommit: String? = nil, runningCommit: String? = nil,
        desiredInstances: Int = 0, runningInstances: Int = 0, healthyInstances: Int = 0, phase: AppPhase,
        reason: String? = nil, suspended: Bool = false, pinned: String? = nil
    ) {
        self.suspended = suspended
        self.pinned = pinned
        self.name = name
        self.kind = kind
        self.desiredCommit = desiredCommit
        self.runningCommit = runningCommit
        self.desiredInstances = desiredInstances
        self.runningInstances = runningInstances
        self.healthyInstances = healthyInstances
        self.phase = phase
        self.reason = reason
    }
}

extension AppStatus {
    enum CodingKeys: String, CodingKey {
        case name, kind, desiredCommit, runningCommit, desiredInstances, runningInstances, healthyInstances, phase, reason
        case suspended, pinned
    }

    /// `suspended` and `pinned` may be absent (a document from an older reconciler).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name), kind: try c.decode(String.self, forKey: .kind),
            desiredCommit: try c.decodeIfPresent(String.self, forKey: .desiredCommit),
            runningCommit: try c.decodeIfPresent(String.self, forKey: .runningCommit),
            desiredInstances: try c.decode(Int.self, forKey: .desiredInstances),
            runningInstances: try c.decode(Int.self, forKey: .runningInstances),
            healthyInstances: try c.decode(Int.self, forKey: .healthyInstances), phase: try c.decode(AppPhase.self, forKey: .phase),
            reason: try c.decodeIfPresent(String.self, forKey: .reason),
            suspended: try c.decodeIfPresent(Bool.self, forKey: .suspended) ?? false,
            pinned: try c.decodeIfPresent(String.self, forKey: .pinned))
    }
}

/// One persistent volume of an app (``PlannedVolume`` for people and scripts): where it is, what mounts it, what the plan
/// does with it.
public struct VolumeStatus: Codable, Sendable, Equatable {
    /// The Mesos persistence ID, `capstan.<app>.<slot>.<key>`.
    public var id: String
    public var app: String
    public var slot: Int
    /// The manifest path; nil when git no longer declares it.
    public var path: String?
    public var sizeMiB: Double
    /// The agent that holds it; nil for one still to be created.
    public var agent: String?
    /// `keep`, `create`, `retain` or `destroy`.
    public var action: String
    /// The task that mounts it.
    public var usedBy: String?
    public var note: String?

    public init(
        id: String, app: String, slot: Int, path: String?, sizeMiB: Double, agent: String?, action: String, usedBy: String? = nil,
        note: String? = nil
    ) {
        self.id = id
        self.app = app
        self.slot = slot
        self.path = path
        self.sizeMiB = sizeMiB
        self.agent = agent
        self.action = action
        self.usedBy = usedBy
        self.note = note
    }
}

/// What `GET /api/v1/status` answers and `capstan status` prints: the git side, the last sync and every app.
///
/// JSON keys are the property names (camelCase); dates are ISO-8601 strings (`ReconcilerJSON`).
public struct ReconcilerStatus: Codable, Sendable, Equatable {
    /// The version of this document's shape; 1.
    public var formatVersion: Int
    /// The repository the manifests come from (URL or path).
    public var repo: String
    /// The branch, tag or commit asked for.
    public var revision: String
    /// The last commit read from git.
    public var headCommit: String?
    /// The last commit whose manifests were valid and applied.
    public var appliedCommit: String?
    /// When the reconciler last read git and compared.
    public var lastSync: Date?
    /// Why HEAD is not what runs, e.g. "commit abc123 is invalid; still running def456".
    public var error: String?
    /// `file:line:column: field: message` lines of an invalid commit.
    public var diagnostics: [String]
    /// Every app, sorted by name.
    public var apps: [AppStatus]
    /// The apps' persistent volumes, sorted by ID; nil when there are none.
    public var volumes: [VolumeStatus]?

    public static let currentFormatVersion = 1

    public init(
        formatVersion: Int = ReconcilerStatus.currentFormatVersion, repo: String, revision: String,
        headCommit: String? = nil, appliedCommit: String? = nil, lastSync: Date? = nil, error: String? = nil,
        diagnostics: [String] = [], apps: [AppStatus] = [], volumes: [VolumeStatus]? = nil
    ) {
        self.volumes = volumes
        self.formatVersion = formatVersion
        self.repo = repo
        self.revision = revision
        self.headCommit = headCommit
        self.appliedCommit = appliedCommit
        self.lastSync = lastSync
        self.error = error
        self.diagnostics = diagnostics
        self.apps = apps.sorted { $0.name < $1.name }
    }

    /// True when git's HEAD is applied (no error) and every app is Synced: `capstan status` exits 0 then.
    public var isConverged: Bool {
        // Nothing applied yet (the first fetch is still running) is not "in sync".
        appliedCommit != nil && error == nil && apps.allSatisfy { $0.phase == .synced }
    }
}

/// The JSON coders of the reconciler's own API (not the Mesos wire format): camelCase keys, ISO-8601 dates,
/// sorted keys so that output is stable.
public enum ReconcilerJSON {
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    public static func encode(_ value: some Encodable, pretty: Bool = false) throws -> Data {
        try encoder(pretty: pretty).encode(value)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try decoder().decode(type, from: data)
    }
}
