import ArgumentParser
import CapstanAPIClient
import CapstanAuth
import CapstanCore
import CapstanMaster
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// Options that configure a master; shared by `capstan master` and `capstan up`.
struct MasterOptions: ParsableArguments {
    @Option(help: "Seconds between agent heartbeats before one counts as missed (Mesos: agent_ping_timeout).")
    var agentPingTimeout: String = "15secs"

    @Option(help: "Missed heartbeats after which an agent is marked unreachable.")
    var maxAgentPingTimeouts: Int = 5

    @Option(help: "Time between full allocation cycles.")
    var allocationInterval: String = "1secs"

    @Option(help: "Interval of HEARTBEAT events on scheduler and operator streams.")
    var heartbeatInterval: String = "15secs"

    @Option(help: "DRF role weights, e.g. \"web=2,batch=1\".")
    var weights: String?

    @Option(help: "Rescind offers not answered within this time (e.g. 30secs); never by default (capstan up: 30secs).")
    var offerTimeout: String?

    @Option(help: "After a restart, how long the registry's agents have to re-register before they are removed and their frameworks told (Mesos: agent_reregister_timeout).")
    var agentReregisterTimeout: String = "10mins"

    @Option(help: "Where admitted agents, frameworks, weights, quota and the maintenance schedule are kept across restarts: sqlite (<work-dir>/registry.sqlite) or in_memory.")
    var registry: String = "sqlite"

    @Option(help: ArgumentHelp(
        "etcd endpoints (comma-separated, e.g. http://127.0.0.1:2379): elect one leader among the masters given the same endpoints, and keep the registry in etcd (overrides --registry).",
        valueName: "urls"))
    var etcd: String?

    @Option(help: "Seconds of the leader's etcd lease: a leader that cannot renew it within this time steps down (exits), and another is elected about this long after the leader died.")
    var etcdLeaseTtl: Int = 5

    @Option(help: "Key prefix of this cluster in etcd (leader key and registry); masters with the same prefix elect one leader.")
    var etcdPrefix: String = "/capstan"

    /// With `--etcd`: the election, which hands the winner its fenced registry (loaded when it wins, not at start).
    /// A leader that loses its lease exits with status 75 so that its supervisor restarts it as a follower.
    func etcdLeadership(logger: Logger) throws -> EtcdLeadership? {
        guard let etcd else { return nil }
        guard etcdLeaseTtl >= 1 else { throw ValidationError("--etcd-lease-ttl must be at least 1 (seconds)") }
        guard etcdPrefix.hasPrefix("/"), !etcdPrefix.hasSuffix("/") else {
            throw ValidationError("--etcd-prefix '\(etcdPrefix)' must start with '/' and not end with one (e.g. /capstan)")
        }
        let client: EtcdClient
        do { client = try EtcdClient(endpoints: etcd.split(separator: ",").map(String.init)) } catch {
            throw ValidationError("--etcd: \(error.message)")
        }
        return EtcdLeadership(client: client, prefix: etcdPrefix, ttl: etcdLeaseTtl, logger: logger) { reason in
            FileHandle.standardError.write(Data("capstan master: stepping down: \(reason); exiting so that a supervisor restarts it as a follower\n".utf8))
            Foundation.exit(75)
        }
    }

    /// The registry `--registry` names, and what it holds now.
    func openRegistry(workDir: String) async throws -> (any MasterRegistry, RegistryContents) {
        let store: any MasterRegistry
        switch registry {
        case "sqlite": store = try SQLiteMasterRegistry(path: workDir + "/registry.sqlite")
        case "in_memory": store = InMemoryMasterRegistry()
        default: throw ValidationError("--registry '\(registry)' is not sqlite or in_memory")
        }
        return (store, try await store.load())
    }

    func configuration(listen: HostPort, workDir: String) throws -> MasterConfiguration {
        guard maxAgentPingTimeouts > 0 else { throw ValidationError("--max-agent-ping-timeouts must be at least 1") }
        var configuration = MasterConfiguration(
            listen: listen, workDir: workDir, hostname: ProcessInfo.processInfo.hostName,
            agentPingTimeout: try FlagParsing.duration(agentPingTimeout, flag: "--agent-ping-timeout"),
            maxAgentPingTimeouts: maxAgentPingTimeouts,
            allocationInterval: try FlagParsing.duration(allocationInterval, flag: "--allocation-interval"),
            heartbeatInterval: try FlagParsing.duration(heartbeatInterval, flag: "--heartbeat-interval"),
            roleWeights: try FlagParsing.weights(weights),
            offerTimeout: try offerTimeout.map { try FlagParsing.duration($0, flag: "--offer-timeout") })
        configuration.agentReregisterTimeout = try FlagParsing.duration(agentReregisterTimeout, flag: "--agent-reregister-timeout")
        configuration.registryKind = etcd == nil ? registry : "etcd"
        return configuration
    }
}

struct MasterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "master",
        abstract: "Run a master: the Mesos v1 scheduler and operator APIs, the agent registry and the DRF allocator.")

    @Option(help: "Address the HTTP API listens on (port 0: the kernel picks one; see --listen-file).")
    var listen: String = "127.0.0.1:5050"

    @Option(help: ArgumentHelp(ListenFile.help, valueName: "path"))
    var listenFile: String?

    @Option(help: "Directory for the master's state.")
    var workDir: String = ".capstan/master"

    @Option(help: ArgumentHelp(
        "Principals and secrets of the agents (same formats as --credentials); each agent signs its calls with one (`capstan agent --credential`). Required unless --insecure.",
        valueName: "file"))
    var agentCredentials: String?

    @Flag(help: "Require credentials on the scheduler API; a framework ID can then only be resumed by the principal that registered it.")
    var authenticateFrameworks = false

    @OptionGroup(title: "Authentication") var auth: HTTPAuthFlags
    @OptionGroup(title: "TLS") var tls: TLSFlags
    @OptionGroup var master: MasterOptions
    @OptionGroup(title: "Client limits") var limits: ConnectionLimitOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if agentCredentials == nil && !auth.insecure {
            throw ValidationError(
                "capstan master: agents must authenticate: pass --agent-credentials FILE (each agent's principal and secret; "
                    + "the agent's --credential holds its own), or --insecure to let anyone who reaches the port act as an agent")
        }
        if authenticateFrameworks && auth.credentials == nil && auth.jwtSecretFile == nil {
            throw ValidationError("--authenticate-frameworks needs --credentials FILE or --jwt-secret-file FILE")
        }
    }

    func run() async throws {
        _ = try logging.bootstrap()
        let logger = logging.logger("capstan.master")
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        let address = try FlagParsing.hostPort(listen, flag: "--listen")
        var config = try master.configuration(listen: address, workDir: workDir)
        config.connectionLimits = try limits.limits()
        let agents: CredentialSet?
        do { agents = try agentCredentials.map { try CredentialSet.load(path: $0) } } catch {
            throw ValidationError("--agent-credentials: \(error)")
        }
        config.authentication = MasterAuthentication(
            agentCredentials: agents, http: try auth.authenticator(), authenticateFrameworks: authenticateFrameworks,
            authenticateHTTP: auth.authenticateHTTP)
        config.tls = try tls.server()
        config.clientTLS = try tls.client()
        try auth.checkListen(
            address, flag: "--listen", command: "master",
            open: config.authentication.openSurfaces + (config.tls == nil ? [TLSFlags.unencrypted] : []))
        if agents == nil { logger.warning("Agents are not authenticated (--insecure): anyone who reaches the port can act as an agent") }
        let started = config
        let listenFile = self.listenFile
        let service: MasterService
        let onListening: @Sendable (HostPort) async -> Void = { address in
            Console.line("capstan master listening on \(address.url(tls: started.tls != nil)) (scheduler API: /api/v1/scheduler, operator API: /api/v1)")
            await ListenFile.write(address, to: listenFile, logger: logger)
        }
        if let leadership = try master.etcdLeadership(logger: logger) {
            service = try MasterService(configuration: started, logger: logger, leadership: leadership, onListening: onListening)
        } else {
            let (registry, recovered) = try await master.openRegistry(workDir: workDir)
            service = try MasterService(
                configuration: started, logger: logger, registry: registry, recovered: recovered, onListening: onListening)
        }
        let group = ServiceGroup(
            configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

extension MasterAuthentication {
    /// What is left open, for the non-loopback check.
    var openSurfaces: [String] {
        var open: [String] = []
        if agentCredentials == nil { open.append("agents are not authenticated (--agent-credentials)") }
        if !authenticateFrameworks { open.append("frameworks are not authenticated (--authenticate-frameworks)") }
        if !authenticateHTTP { open.append("the operator API is open (--authenticate-http)") }
        return open
    }
}
