import CapstanAPI
import CapstanAPIClient
import CapstanAuth
import CapstanContainerizer
import CapstanCore
import CapstanHTTP
import CapstanImage
import Hummingbird
import Foundation
import Glibc
import Logging
import Prometheus
import ServiceLifecycle

/// Runs an agent: recovery from checkpoints, its HTTP server, registration and heartbeats with the master, and
/// status update retries, until graceful shutdown.
///
/// What runs survives the agent by default, as in Mesos: a graceful shutdown, a crash or a SIGKILL leaves tasks
/// running, and an agent started again on the same work dir recovers them. With `killTasksOnShutdown` (as
/// `capstan up` wants for Ctrl-C), a graceful shutdown destroys every container first.
public struct AgentService: Service {
    public let agent: Agent
    let configuration: AgentConfiguration
    let logger: Logger
    let poster: JSONPoster
    let statusUpdates: StatusUpdateManager
    let onListening: @Sendable (HostPort) async -> Void
    let killTasksOnShutdown: Bool
    /// The master's address: `configuration.master`, or (in `capstan up`, whose master may listen on port 0) the
    /// address the master bound, once it has.
    let masterAddress: @Sendable () async throws -> HostPort
    /// Where this agent's server listens, once it does: registration waits for it, so the master learns the bound port.
    let bound = BoundAddress()

    /// `masterAddress` overrides `configuration.master` with an address known only once the master listens.
    public init(
        configuration: AgentConfiguration, logger: Logger, killTasksOnShutdown: Bool = true,
        masterAddress: (@Sendable () async throws -> HostPort)? = nil,
        onListening: @escaping @Sendable (HostPort) async -> Void = { _ in }
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.killTasksOnShutdown = killTasksOnShutdown
        let configuredMaster = configuration.master
        let masterAddress = masterAddress ?? { configuredMaster }
        self.masterAddress = masterAddress
        let poster = try JSONPoster(tls: configuration.clientTLS, timeout: .seconds(5), signer: configuration.credential)
        self.poster = poster
        let messenger = HTTPMasterMessenger(poster: poster, master: masterAddress)
        self.statusUpdates = StatusUpdateManager(
            checkpoints: OrderedCheckpointWriter(store: CheckpointStore(workDir: configuration.workDir), logger: logger),
            retryInterval: configuration.statusUpdateRetryInterval, retryMax: configuration.statusUpdateRetryMax,
            logger: logger
        ) { message in
            try await messenger.statusUpdate(message)
        }
        // One containerizer runs every container: the plain launcher for command tasks and executors, the Linux
        // launcher (root) for tasks from images, and the same isolators for all of them.
        let linuxLauncher = geteuid() == 0 ? LinuxLauncher(workDirectory: configuration.workDir + "/containers", logger: logger) : nil
        let isolation = try Self.withDevices(Self.withCDI(Self.withGPUs(
            Self.withDiskUsage(
                Self.withVolumes(
                    Self.withNetworks(IsolatorSet.available(pidsMax: configuration.containerPidsMax, logger: logger), configuration, logger: logger),
                    configuration, logger: logger),
                configuration, launcher: linuxLauncher, logger: logger),
            configuration, logger: logger), configuration, logger: logger), configuration, logger: logger)
        Self.moveLegacyContainerCheckpoints(workDir: configuration.workDir, logger: logger)
        let containerizer = Containerizer(
            launcher: PosixLauncher(logger: logger, stateDirectory: configuration.workDir + "/containers/plain"),
            rootfsLauncher: linuxLauncher, provisioner: Self.provisioner(configuration, launcher: linuxLauncher, logger: logger),
            isolators: isolation.isolators, logger: logger,
            checkpointDirectory: configuration.workDir + "/meta/containers")
        self.agent = Agent(
            configuration: configuration, containerizer: containerizer, isolation: isolation,
            statusUpdates: statusUpdates, logger: logger,
            executorTokenKey: try ExecutorTokenKeyFile.loadOrCreate(at: configuration.workDir + "/meta/executor-token.key"),
            messenger: messenger)
        self.onListening = onListening
    }

    /// The provisioner of the images tasks name: the agent's image store, pulling through `--insecure-registry` and the
    /// other registry flags; nil (with the reason logged) without root.
    /// The cgroup isolators plus `network/cni` when the agent has networks: the built-in network's conflist is written
    /// under the work dir (and wins over an operator's network of the same name), the operator's directory follows.
    /// Without root the network isolator is reported unavailable, as the cgroup ones are.
    static func withNetworks(_ isolation: IsolatorSet, _ configuration: AgentConfiguration, logger: Logger) -> IsolatorSet {
        let network = configuration.network
        guard network.isEnabled else { return isolation }
        guard geteuid() == 0 else {
            logger.warning("CNI networks are unavailable: the network/cni isolator needs root")
            return IsolatorSet(isolators: isolation.isolators, unavailable: isolation.unavailable + ["network/cni: not running as root"])
        }
        var directories: [String] = []
        if let builtIn = network.builtIn {
            let directory = configuration.workDir + "/network/builtin"
            do {
                try builtIn.write(into: directory)
                directories.append(directory)
            } catch {
                logger.error("Cannot write the built-in network's configuration", metadata: ["error": "\(error)"])
            }
        }
        if let operatorDirectory = network.configDirectory { directories.append(operatorDirectory) }
        let cni = CNINetworkIsolator(
            configDirectories: directories, pluginDirectories: network.pluginDirectories,
            runDirectory: configuration.workDir + "/network/attachments", logger: logger)
        return IsolatorSet(isolators: isolation.isolators + [cni], unavailable: isolation.unavailable)
    }

    /// Plus `volume/path`: host-path, sandbox-path, persistent and Docker volumes.
    static func withVolumes(_ isolation: IsolatorSet, _ configuration: AgentConfiguration, logger: Logger) -> IsolatorSet {
        let docker = DockerVolumeMounts(
            journalDirectory: configuration.workDir + "/volumes/docker",
            plugins: DockerVolumePlugins(directories: configuration.dockerVolumePlugins, logger: logger), logger: logger)
        return IsolatorSet(
            isolators: isolation.isolators + [VolumeIsolator(policy: configuration.hostPaths, docker: docker)], unavailable: isolation.unavailable)
    }

    static func provisioner(_ configuration: AgentConfiguration, launcher: LinuxLauncher?, logger: Logger) -> ImageStoreProvisioner? {
        guard let launcher else {
            logger.warning("Not running as root: tasks that name an image will fail; command tasks run as plain processes")
            return nil
        }
        do {
            let store = try ImageStore(
                root: configuration.imagesDirectory, options: configuration.registry, limits: configuration.imageLimits, logger: logger)
            return ImageStoreProvisioner(store: store, leaseDirectory: { launcher.stateDirectory(of: $0) })
        } catch {
            logger.error("Image store unavailable: tasks that name an image will fail", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Moves container checkpoints of agents that kept two containerizers (`meta/containers/plain` and
    /// `meta/containers/linux`) to the one containerizer's `meta/containers`, so that an upgraded agent recovers them.
    static func moveLegacyContainerCheckpoints(workDir: String, logger: Logger) {
        let directory = workDir + "/meta/containers"
        for legacy in ["plain", "linux"] {
            let from = directory + "/" + legacy
            for name in (try? FileManager.default.contentsOfDirectory(atPath: from)) ?? [] where name.hasSuffix(".json") {
                if rename(from + "/" + name, directory + "/" + name) != 0 {
                    logger.error("Failed to move a container checkpoint", metadata: ["path": "\(from)/\(name)", "errno": "\(errno)"])
                }
            }
            rmdir(from)
        }
    }

    public func run() async throws {
        if configuration.switchUser && geteuid() != 0 {
            logger.warning("Not running as root: tasks run as the agent's user, not as their framework's or command's user")
        } else if !configuration.switchUser {
            logger.warning("--no-switch-user: tasks run as the agent's user whatever user their framework names")
        }
        for failure in configuration.cdi.errors {
            logger.error("A CDI spec cannot be used; the devices of the other specs still are", metadata: ["file": "\(failure.path)", "error": "\(failure.error.message)"])
        }
        if !configuration.cdi.deviceNames.isEmpty {
            logger.info("CDI devices", metadata: ["devices": "\(configuration.cdi.deviceNames.map(\.description))"])
        }
        try await agent.recover()
        let router = Router()
        if let authenticator = configuration.httpAuthenticator {
            // Executors authenticate by their container (the agent started them); the master signs its calls.
            router.add(
                middleware: AuthenticationMiddleware(
                    authenticator: authenticator, openPrefixes: ["/health", "/slave(1)/health", "/version", "/agent/internal", "/api/v1/executor"]))
        }
        let registry = PrometheusCollectorRegistry()
        ServiceEndpoints.register(on: router, metrics: registry) {}
        try AgentRoutes.register(
            on: router, agent: agent, files: agent.files, configuration: configuration)
        AgentSandboxPage.register(on: router)
        let app = try HTTPServer.application(
            router: router, listen: configuration.listen, serverName: "capstan-agent", tls: configuration.tls,
            limits: configuration.connectionLimits, logger: logger
        ) { [agent, bound, onListening] address in
            await agent.listening(at: address)
            bound.set(address)
            await onListening(address)
        }
        let agent = self.agent
        let statusUpdates = self.statusUpdates
        let killTasksOnShutdown = self.killTasksOnShutdown
        let logger = self.logger
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await app.run() }
            group.addTask { try? await cancelWhenGracefulShutdown { try await registrationLoop() } }
            group.addTask {
                try? await cancelWhenGracefulShutdown {
                    while !Task.isCancelled {
                        try await Task.sleep(for: .milliseconds(500))
                        await statusUpdates.retryDue()
                    }
                }
            }
            group.addTask {
                try? await gracefulShutdown()
                if killTasksOnShutdown {
                    await agent.destroyAll()
                } else {
                    logger.info("Stopping; tasks keep running and are recovered when the agent starts again on this work dir")
                    await agent.closeExecutorStreams()
                }
                await statusUpdates.checkpoints.flush()  // nothing handed over to the writer is lost on a clean stop
            }
        }
    }

    /// Registers (with backoff) and then heartbeats; a heartbeat the master refuses, or three that fail, start
    /// registration again.
    private func registrationLoop() async throws {
        // The master learns this agent's port from the registration: wait until the server has bound it.
        _ = try await bound.value()
        // Asked again at every (re-)registration: with several masters, the leader may have changed.
        // (A leader that cannot be found yet is asked again at the first registration attempt.)
        var master = (try? await masterAddress()) ?? configuration.master
        var heartbeatURL = master.url + InternalPath.heartbeat
        var backoff = Duration.milliseconds(100)
        var heartbeatInterval = Duration.seconds(5)
        var registered = false
        var failures = 0
        var saidNotAMaster = false
        while !Task.isCancelled {
            if !registered {
                do {
                    master = try await masterAddress()
                    heartbeatURL = master.url + InternalPath.heartbeat
                    let reply = try await poster.call(
                        await agent.registrationMessage(), to: master.url + InternalPath.register, expecting: AgentRegisteredMessage.self)
                    await agent.registered(reply)
                    registered = true
                    failures = 0
                    backoff = .milliseconds(100)
                    heartbeatInterval = .milliseconds(Int64(max(0.05, reply.heartbeatIntervalSeconds) * 1000))
                } catch {
                    if let refused = error as? CapstanError, refused.code == .unauthenticated || refused.code == .permissionDenied {
                        logger.error("The master refused this agent's credential; retrying", metadata: ["error": "\(refused)"])
                    } else if let missing = error as? CapstanError, missing.code == .notFound, !saidNotAMaster,
                        await MasterIdentity.isAgent(master, poster: poster)
                    {
                        saidNotAMaster = true
                        logger.error("Cannot register: --master \(MasterIdentity.agentMessage(master)); retrying")
                    } else {
                        logger.debug("Registration failed; retrying", metadata: ["error": "\(error)"])
                    }
                    try await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, configuration.registrationBackoffMax)
                    continue
                }
            }
            try await Task.sleep(for: heartbeatInterval)
            guard let heartbeat = await agent.heartbeatMessage else { registered = false; continue }
            do {
                let reply = try await poster.post(heartbeat, to: heartbeatURL)
                if reply.status == 404 {
                    logger.info("Master does not know this agent; re-registering")
                    registered = false
                    await agent.disconnected()
                } else {
                    failures = 0
                    if await agent.advertisedNetworksChanged() {
                        // The master replaces the agent's info (and rescinds its offers) on re-registration.
                        logger.info("The agent's CNI networks changed; re-registering to advertise them")
                        registered = false
                    }
                }
            } catch {
                failures += 1
                if failures >= 3 {
                    logger.warning("Lost the master; re-registering", metadata: ["error": "\(error)"])
                    registered = false
                    await agent.disconnected()
                }
            }
        }
    }
}
