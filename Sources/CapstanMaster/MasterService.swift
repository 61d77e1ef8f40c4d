import CapstanAPIClient
import CapstanCore
import CapstanHTTP
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// Runs a master: its HTTP server and its loops (allocation, housekeeping, heartbeats) until graceful shutdown.
public struct MasterService: Service {
    public let master: Master
    let configuration: MasterConfiguration
    let logger: Logger
    let agentLink: AgentLink
    let onListening: @Sendable (HostPort) async -> Void
    let leadership: any Leadership

    /// `registry` keeps admitted agents and frameworks across restarts; `recovered` is what it held at start
    /// (``MasterRegistry/load()``).
    public init(
        configuration: MasterConfiguration, logger: Logger, leadership: any Leadership = StandaloneLeadership(),
        registry: (any MasterRegistry)? = nil, recovered: RegistryContents = RegistryContents(),
        onListening: @escaping @Sendable (HostPort) async -> Void = { _ in }
    ) throws {
        self.leadership = leadership
        self.configuration = configuration
        self.logger = logger
        self.agentLink = AgentLink(
            poster: try JSONPoster(tls: configuration.clientTLS), credentials: configuration.authentication.agentCredentials, logger: logger)
        self.master = Master(
            configuration: configuration, agentLink: agentLink, logger: logger,
            registry: registry.map { RegistryWriter(registry: $0, logger: logger) }, recovered: recovered)
        self.onListening = onListening
    }

    public func run() async throws {
        let router = Router()
        router.add(middleware: LeaderRedirectMiddleware(leadership: leadership))
        if configuration.authentication.authenticateHTTP, let authenticator = configuration.authentication.http {
            router.add(
                middleware: AuthenticationMiddleware(
                    authenticator: authenticator,
                    openPrefixes: [
                        "/health", "/version", "/master/internal", "/api/v1/scheduler", "/redirect", "/master/health",
                        "/master/api/v1/scheduler", "/master/redirect",
                    ]))
        }
        let registry = PrometheusCollectorRegistry()
        let master = self.master
        ServiceEndpoints.register(on: router, metrics: registry) {
            for (name, value) in await master.metricsSnapshot() {
                registry.makeGauge(name: MetricName.prometheus(name)).set(value)
            }
        }
        MasterRoutes.register(on: router, master: master)
        MasterDashboardRoutes.register(on: router, master: master)
        let (bound, boundContinuation) = AsyncStream.makeStream(of: HostPort.self, bufferingPolicy: .bufferingNewest(1))
        let app = try HTTPServer.application(
            router: router, listen: configuration.listen, serverName: "capstan-master", tls: configuration.tls,
            limits: configuration.connectionLimits, logger: logger
        ) { [onListening] address in
            await master.listening(at: address)
            await onListening(address)
            boundContinuation.yield(address)
            boundContinuation.finish()
        }
        let configuration = self.configuration
        let elected = leadership as? any ElectedLeadership
        let logger = self.logger
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await app.run() }
                if let elected {
                    // Serve HTTP as a follower (307 to the leader) while campaigning; lead only once elected and
                    // recovered from the registry the election fenced.
                    var addresses = bound.makeAsyncIterator()
                    guard let address = await addresses.next() else { return }
                    let registry: any MasterRegistry
                    do {
                        registry = try await cancelWhenGracefulShutdown { try await elected.campaign(advertising: address) }
                    } catch is CancellationError { return }
                    let recovered = try await registry.load()
                    await master.adopt(registry: RegistryWriter(registry: registry, logger: logger), recovered: recovered)
                    await elected.serve()
                    logger.info("Leading: serving the scheduler and operator APIs", metadata: ["address": "\(address)"])
                }
                group.addTask {
                    try? await cancelWhenGracefulShutdown {
                        while !Task.isCancelled {
                            try await Task.sleep(for: .milliseconds(20))
                            await master.allocateIfDue()
                        }
                    }
                }
                group.addTask {
                    try? await cancelWhenGracefulShutdown {
                        let tick = min(configuration.agentPingTimeout / 2, .seconds(1))
                        while !Task.isCancelled {
                            try await Task.sleep(for: tick)
                            await master.housekeeping()
                        }
                    }
                }
                group.addTask {
                    try? await cancelWhenGracefulShutdown {
                        while !Task.isCancelled {
                            try await Task.sleep(for: configuration.heartbeatInterval)
                            await master.sendHeartbeats()
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            Task {
                await master.closeStreams()
                await elected?.resign()
            }
        }
        agentLink.shutdown()
        // Hand leadership over now rather than when the lease runs out (idempotent: the shutdown handler may have).
        await elected?.resign()
    }
}

/// Mesos metric names (`master/cpus_total`) in Prometheus form (`capstan_master_cpus_total`).
enum MetricName {
    static func prometheus(_ name: String) -> String {
        "capstan_" + name.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }
}
