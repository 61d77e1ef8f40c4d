import CapstanAPIClient
import CapstanCore

/// How the reconciler runs as a framework.
public struct ReconcilerConfiguration: Sendable {
    /// The role the reconciler subscribes with unless told otherwise: its apps' persistent volumes are reserved for it
    /// (the unreserved role `*` cannot hold reservations).
    public static let defaultRole = "capstan"

    /// The master's scheduler and operator API: one master, several on etcd, or the etcd they elect through; the
    /// framework follows whichever leads (``LeaderFinder``).
    public var master: MasterAddress
    /// The role the framework subscribes with.
    public var role: String
    /// The principal its reservations and persistent volumes name; nil when the master does not authenticate frameworks.
    public var principal: String? = nil
    /// The user tasks run as when a manifest names none.
    public var user: String
    /// How long the master keeps the framework's tasks while the reconciler is away (Mesos `failover_timeout`).
    public var failoverTimeout: Duration
    /// At most this many apps deleted by one sync; a sync that would delete more deletes none. Nil: no limit.
    public var maxDeletions: Int?
    /// Apply a commit that declares no apps or jobs, deleting everything (Argo CD's `allowEmpty`); refused when false.
    public var allowEmpty: Bool = false
    /// Where the reconciler's HTTP API is (`FrameworkInfo.webui_url`), so `capstan status` can find it through the master.
    public var webuiURL: String?
    /// How often rollouts, deadlines and backoffs are re-evaluated.
    public var tick: Duration
    /// How long declined offers stay away when nothing needs them.
    public var declineSeconds: Double
    /// The `Authorization` header for the master (HTTP Basic from `--principal`/`--secret-file`, or a bearer token),
    /// for a master with `--authenticate-frameworks` / `--authenticate-http`.
    public var authorization: String? = nil
    /// How the reconciler reaches the master over HTTPS; nil: plain HTTP.
    public var clientTLS: ClientTLS? = nil

    public init(
        master: MasterAddress, role: String = ReconcilerConfiguration.defaultRole, user: String = "root", failoverTimeout: Duration = .seconds(7 * 24 * 3600),
        maxDeletions: Int? = nil, webuiURL: String? = nil, tick: Duration = .milliseconds(200), declineSeconds: Double = 5
    ) {
        self.master = master
        self.role = role
        self.user = user
        self.failoverTimeout = failoverTimeout
        self.maxDeletions = maxDeletions
        self.webuiURL = webuiURL
        self.tick = tick
        self.declineSeconds = declineSeconds
    }
}

extension ReconcilerConfiguration {
    /// One master at `master`.
    public init(
        master: HostPort, role: String = ReconcilerConfiguration.defaultRole, user: String = "root", failoverTimeout: Duration = .seconds(7 * 24 * 3600),
        maxDeletions: Int? = nil, webuiURL: String? = nil, tick: Duration = .milliseconds(200), declineSeconds: Double = 5
    ) {
        self.init(
            master: .masters([master]), role: role, user: user, failoverTimeout: failoverTimeout, maxDeletions: maxDeletions, webuiURL: webuiURL,
            tick: tick, declineSeconds: declineSeconds)
    }
}
