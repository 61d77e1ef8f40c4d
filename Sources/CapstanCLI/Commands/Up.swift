import ArgumentParser
import CapstanAuth
import CapstanAgent
import CapstanCore
import CapstanGit
import CapstanHTTP
import CapstanMaster
import CapstanReconciler
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a master, an agent and the GitOps reconciler in one process on one work dir; Ctrl-C stops all and kills their tasks.",
        discussion: """
            The reconciler follows --repo (default: the git checkout around the current directory, with --path \
            Manifests when it has that directory) and deploys its manifests onto the agent. Without a repository \
            (or with --no-reconciler) only the master and the agent run.
            """)

    @Option(help: "Address the master's HTTP API listens on (port 0: the kernel picks one; the agent and the reconciler use it).")
    var listen: String = "127.0.0.1:5050"

    @Option(help: "Address the agent's HTTP API listens on (port 0: the kernel picks one).")
    var agentListen: String = "127.0.0.1:5051"

    @Option(help: "Address the reconciler's HTTP API (status, history, webhook) listens on (port 0: the kernel picks one).")
    var reconcilerListen: String = "127.0.0.1:5052"

    @Option(help: ArgumentHelp("The master's listen file: " + ListenFile.help, valueName: "path"))
    var listenFile: String?

    @Option(help: ArgumentHelp("The agent's listen file, as --listen-file.", valueName: "path"))
    var agentListenFile: String?

    @Option(help: ArgumentHelp("The reconciler's listen file, as --listen-file.", valueName: "path"))
    var reconcilerListenFile: String?

    @Option(help: "Directory for all state (master/, agent/, reconciler/ and the image store images/ below it, the one `capstan image --work-dir` and `capstan container run --work-dir` use).")
    var workDir: String = ".capstan"

    @Flag(help: "Run only the master and the agent.")
    var noReconciler = false

    @Flag(help: "Require credentials on the scheduler API (the bundled reconciler gets its own).")
    var authenticateFrameworks = false

    @OptionGroup(title: "Authentication") var auth: HTTPAuthFlags
    @OptionGroup(title: "TLS") var tls: TLSFlags
    @OptionGroup var master: MasterOptions
    @OptionGroup var agent: AgentOptions
    @OptionGroup var git: GitOptions
    @OptionGroup var reconciler: ReconcileFlags
    @OptionGroup(title: "Client limits") var limits: ConnectionLimitOptions
    @OptionGroup var logging: LoggingOptions

    /// `up` rescinds offers a framework holds longer than this unless `--offer-timeout` says otherwise, so one stuck
    /// framework cannot starve the others (a bare `capstan master` never rescinds, as Mesos).
    static let defaultOfferTimeout: Duration = .seconds(30)

    func run() async throws {
        _ = try logging.bootstrap()
        let root = URL(fileURLWithPath: workDir).standardizedFileURL.path
        for sub in ["master", "agent"] {
            try FileManager.default.createDirectory(atPath: root + "/" + sub, withIntermediateDirectories: true)
        }
        let masterAddress = try FlagParsing.hostPort(listen, flag: "--listen")
        let agentAddress = try FlagParsing.hostPort(agentListen, flag: "--agent-listen")
        // All three ports are checked before anything starts: a taken one is named with its flag, and nothing half-starts.
        try ListenPort.ensureFree(masterAddress, component: "the master", flag: "--listen")
        try ListenPort.ensureFree(agentAddress, component: "the agent", flag: "--agent-listen")
        try ListenPort.ensureFree(
            try FlagParsing.hostPort(reconcilerListen, flag: "--reconciler-listen"), component: "the reconciler", flag: "--reconciler-listen")
        var masterConfig = try master.configuration(listen: masterAddress, workDir: root + "/master")
        let connectionLimits = try limits.limits()
        masterConfig.connectionLimits = connectionLimits
        if master.offerTimeout == nil { masterConfig.offerTimeout = Self.defaultOfferTimeout }
        var agentConfig = try agent.configuration(
            listen: agentAddress, master: masterAddress, workDir: root + "/agent", defaultSubnet: AgentOptions.upDefaultSubnet,
            protectedPaths: [root, tls.tlsKey, auth.credentials, auth.jwtSecretFile].compactMap { $0 })
        agentConfig.connectionLimits = connectionLimits
        // One image store per work dir: what `capstan image import --work-dir DIR` stored, the agent runs.
        agentConfig.imageStoreDirectory = root + "/images"
        // Master and agent share this process: the agent's credential is made afresh for each run.
        let agentCredential = CredentialSet.Credential.random(principal: "capstan-up-agent")
        var http = try auth.authenticator()
        if authenticateFrameworks && http == nil {
            throw ValidationError("--authenticate-frameworks needs --credentials FILE or --jwt-secret-file FILE")
        }
        // The bundled reconciler authenticates with a credential of its own, made afresh for each run.
        let reconcilerCredential = CredentialSet.Credential.random(principal: "capstan-up-reconciler")
        if let given = http {
            http = HTTPAuthenticator(
                credentials: try CredentialSet(given.credentials.credentials + [reconcilerCredential]), jwtSecret: given.jwtSecret)
        }
        masterConfig.authentication = MasterAuthentication(
            agentCredentials: try CredentialSet([agentCredential]), http: http, authenticateFrameworks: authenticateFrameworks,
            authenticateHTTP: auth.authenticateHTTP)
        agentConfig.credential = agentCredential
        masterConfig.tls = try tls.server()
        masterConfig.clientTLS = try tls.client()
        agentConfig.tls = masterConfig.tls
        agentConfig.clientTLS = masterConfig.clientTLS
        let plain = masterConfig.tls == nil ? [TLSFlags.unencrypted] : []
        agentConfig.httpAuthenticator = auth.authenticateHTTP ? http : nil
        try auth.checkListen(masterAddress, flag: "--listen", command: "up", open: masterConfig.authentication.openSurfaces + plain)
        try auth.checkListen(
            agentAddress, flag: "--agent-listen", command: "up",
            open: (auth.authenticateHTTP ? [] : ["the agent's operator API and sandbox files are open (--authenticate-http)"]) + plain)
        let masterStarted = masterConfig
        let agentStarted = agentConfig
        let logger = logging.logger("capstan")
        // The agent and the reconciler reach the master at the address it bound (its port when --listen names port 0).
        let masterBound = BoundAddress()
        let master: @Sendable () async throws -> HostPort = { try await masterBound.value() }
        let (listenFile, agentListenFile) = (self.listenFile, self.agentListenFile)
        let onMasterListening: @Sendable (HostPort) async -> Void = { address in
            masterBound.set(address)
            Console.line("capstan master listening on \(address.url(tls: masterStarted.tls != nil))  (scheduler API /api/v1/scheduler, operator API /api/v1)")
            await ListenFile.write(address, to: listenFile, logger: logger)
        }
        let masterLogger = logging.logger("capstan.master")
        let masterService: MasterService
        if let leadership = try self.master.etcdLeadership(logger: masterLogger) {
            // With --etcd this master leads only once elected (loading the registry from etcd then); until then its
            // agent and reconciler are redirected to the leader.
            masterService = try MasterService(
                configuration: masterStarted, logger: masterLogger, leadership: leadership, onListening: onMasterListening)
        } else {
            let (registry, recovered) = try await self.master.openRegistry(workDir: root + "/master")
            masterService = try MasterService(
                configuration: masterStarted, logger: masterLogger, registry: registry, recovered: recovered, onListening: onMasterListening)
        }
        let agentService = try AgentService(configuration: agentStarted, logger: logging.logger("capstan.agent"), masterAddress: master) { address in
            Console.line("capstan agent  listening on \(address.url(tls: agentStarted.tls != nil))  (executor API /api/v1/executor, files /files/browse)")
            Console.line("work dir: \(root)   resources: \(agentStarted.resources)")
            await ListenFile.write(address, to: agentListenFile, logger: logger)
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: masterService), .init(service: agentService)]
        let reconcilerAuthorization = http == nil ? nil : HTTPAuthenticator.basic(principal: reconcilerCredential.principal, secret: reconcilerCredential.secret)
        if let daemon = try await reconcilerDaemon(
            root: root, master: masterAddress, masterBound: master, authorization: reconcilerAuthorization,
            authenticator: auth.authenticateHTTP ? http : nil) {
            services.append(.init(service: daemon))
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        Console.line("capstan stopped; all tasks were killed")
    }
}

extension Up {
    /// The reconciler for `--repo`, or for the checkout around the current directory; nil when there is none.
    func reconcilerDaemon(
        root: String, master: HostPort, masterBound: @escaping @Sendable () async throws -> HostPort, authorization: String?,
        authenticator: HTTPAuthenticator?
    ) async throws -> ReconcilerDaemon? {
        if noReconciler { return nil }
        var git = self.git
        var subPath: String? = nil
        if git.repo == nil {
            guard let checkout = Self.checkoutRoot(of: FileManager.default.currentDirectoryPath) else {
                Console.line("no git repository here and no --repo: the reconciler is not started")
                return nil
            }
            git.repo = checkout
            if git.subPath.isEmpty {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: checkout + "/Manifests", isDirectory: &isDirectory), isDirectory.boolValue {
                    subPath = "Manifests"
                }
            }
        }
        let directory = root + "/reconciler"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let source = try git.source(workDirectory: directory)
        var options = try await reconciler.daemonOptions(
            git: git, source: source, listen: try FlagParsing.hostPort(reconcilerListen, flag: "--reconciler-listen"),
            master: .masters([master]), workDir: directory, subPath: subPath)
        options.connectionLimits = try limits.limits()
        options.framework.authorization = authorization
        options.tls = try tls.server()
        options.framework.clientTLS = try tls.client()
        options.httpAuthenticator = authenticator
        let reconcilerAddress = options.listen
        let started = options
        try auth.checkListen(reconcilerAddress, flag: "--reconciler-listen", command: "up", open: started.openSurfaces)
        let logger = logging.logger("capstan.reconciler")
        let listenFile = reconcilerListenFile
        return ReconcilerDaemon(options: started, source: source, logger: logger, masterAddress: masterBound) { address in
            let path = started.path.isEmpty ? "" : ", path \(started.path)"
            Console.line("capstan reconciler listening on \(address.url(tls: started.tls != nil))  following \(source.remote) at \(started.revision)\(path)")
            await ListenFile.write(address, to: listenFile, logger: logger)
        }
    }

    /// The top directory of the git work tree containing `directory` (a `.git` entry found walking up).
    static func checkoutRoot(of directory: String) -> String? {
        var url = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent(".git").path) { return url.path }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { return nil }
            url = parent
        }
    }
}
