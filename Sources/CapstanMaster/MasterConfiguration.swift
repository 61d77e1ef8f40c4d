import Logging
import CapstanAuth
import CapstanCore
import CapstanHTTP
import CapstanAPIClient

/// Everything a master needs to start; the CLI fills it from flags.
public struct MasterConfiguration: Sendable {
    /// Where the HTTP API listens (`--listen`, default 127.0.0.1:5050).
    public var listen: HostPort
    /// Where state lives (`--work-dir`).
    public var workDir: String
    /// Hostname advertised in MasterInfo.
    public var hostname: String
    /// How often an agent must heartbeat (`--agent-ping-timeout`); told to agents at registration.
    public var agentPingTimeout: Duration
    /// Missed heartbeats after which an agent is unreachable (`--max-agent-ping-timeouts`).
    public var maxAgentPingTimeouts: Int
    /// How often the allocator runs a full cycle (`--allocation-interval`).
    public var allocationInterval: Duration
    /// Interval of HEARTBEAT events on scheduler and operator streams.
    public var heartbeatInterval: Duration
    /// Role weights for DRF (`--weights "web=2,batch=1"`).
    public var roleWeights: [String: Double]
    /// Offers not answered within this time are rescinded (`--offer-timeout`); nil never.
    public var offerTimeout: Duration?
    /// Terminal tasks kept per framework for GET_TASKS' completed_tasks.
    public var maxCompletedTasksPerFramework: Int
    /// Agent, framework and operator authentication.
    public var authentication: MasterAuthentication
    /// HTTPS for the master's own API (`--tls-cert`, `--tls-key`, `--tls-ca`); nil serves plain HTTP.
    public var tls: ServerTLS?
    /// How the master reaches agents over HTTPS (the CA, and its own certificate for agents that require one).
    public var clientTLS: ClientTLS?
    /// Per-client bounds of the HTTP server and of SUBSCRIBE streams (`--max-connections-per-peer` and others).
    public var connectionLimits = ConnectionLimits()
    /// After a restart, how long an agent of the registry has to re-register before it is removed and its
    /// frameworks told (`--agent-reregister-timeout`, 10 minutes as Mesos).
    public var agentReregisterTimeout: Duration = .seconds(600)
    /// `sqlite` (the registry in `<work-dir>/registry.sqlite`) or `in_memory` (`--registry`).
    public var registryKind = "sqlite"

    public init(
        listen: HostPort = HostPort(host: "127.0.0.1", port: 5050),
        workDir: String,
        hostname: String = "localhost",
        agentPingTimeout: Duration = .seconds(15),
        maxAgentPingTimeouts: Int = 5,
        allocationInterval: Duration = .seconds(1),
        heartbeatInterval: Duration = .seconds(15),
        roleWeights: [String: Double] = [:],
        offerTimeout: Duration? = nil,
        maxCompletedTasksPerFramework: Int = 1000,
        authentication: MasterAuthentication = MasterAuthentication()
    ) {
        self.authentication = authentication
        self.listen = listen
        self.workDir = workDir
        self.hostname = hostname
        self.agentPingTimeout = agentPingTimeout
        self.maxAgentPingTimeouts = maxAgentPingTimeouts
        self.allocationInterval = allocationInterval
        self.heartbeatInterval = heartbeatInterval
        self.roleWeights = roleWeights
        self.offerTimeout = offerTimeout
        self.maxCompletedTasksPerFramework = maxCompletedTasksPerFramework
    }

    /// The flags as GET_FLAGS reports them.
    public var flags: [(String, String)] {
        [
            ("listen", listen.description), ("work_dir", workDir), ("hostname", hostname),
            ("agent_ping_timeout", "\(agentPingTimeout.seconds)secs"),
            ("max_agent_ping_timeouts", "\(maxAgentPingTimeouts)"),
            ("allocation_interval", "\(allocationInterval.seconds)secs"),
            ("weights", roleWeights.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")),
            ("offer_timeout", offerTimeout.map { "\($0.seconds)secs" } ?? ""),
            ("agent_reregister_timeout", "\(agentReregisterTimeout.seconds)secs"),
            ("registry", registryKind),
            ("tls", tls == nil ? "false" : "true"),
            ("authenticate_agents", authentication.agentCredentials == nil ? "false" : "true"),
            ("authenticate_frameworks", authentication.authenticateFrameworks ? "true" : "false"),
            ("authenticate_http_readwrite", authentication.authenticateHTTP ? "true" : "false"),
        ]
    }
}
