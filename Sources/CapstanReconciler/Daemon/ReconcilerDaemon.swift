import AsyncHTTPClient
import CapstanAPIClient
import CapstanAuth
import CapstanCore
import CapstanGit
import CapstanHTTP
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// `capstan reconcile` (and the reconciler inside `capstan up`): watches the repository, loads each new commit's
/// manifests, hands valid ones to the ``Reconciler`` and records invalid ones, runs the framework against the
/// master, and serves the HTTP API (status, history, webhook).
public struct ReconcilerDaemon: Service {
    public struct Options: Sendable {
        /// Where the HTTP API listens.
        public var listen: HostPort
        /// The revision (branch, tag or commit) followed.
        public var revision: String
        /// The directory inside the repository holding the manifests (empty: the root).
        public var path: String
        public var interval: Duration
        /// The SQLite file of the sync history.
        public var historyPath: String
        /// GitHub-style webhook secret; nil refuses webhooks unless `webhookInsecure`.
        public var webhookSecret: String?
        /// `--webhook-insecure`: accept unsigned webhooks when there is no secret.
        public var webhookInsecure = false
        /// HTTPS for the reconciler's API; nil serves plain HTTP.
        public var tls: ServerTLS? = nil
        /// `--authenticate-http`: the status and history API need credentials.
        public var httpAuthenticator: HTTPAuthenticator? = nil
        public var framework: ReconcilerConfiguration
        /// Per-client bounds of the HTTP server (`--max-connections-per-peer` and others).
        public var connectionLimits = ConnectionLimits()

        public init(
            listen: HostPort, revision: String, path: String, interval: Duration, historyPath: String,
            webhookSecret: String?, framework: ReconcilerConfiguration
        ) {
            self.listen = listen
            self.revision = revision
            self.path = path
            self.interval = interval
            self.historyPath = historyPath
            self.webhookSecret = webhookSecret
            self.framework = framework
        }
    }

    let options: Options
    let source: any GitSource
    let bound = BoundAddress()
    let logger: Logger
    let onListening: @Sendable (HostPort) async -> Void
    /// The master's address: `options.framework.master`, or (in `capstan up`, whose master may listen on port 0) the
    /// address the master bound, once it has.
    let masterAddress: (@Sendable () async throws -> HostPort)?

    /// `masterAddress` overrides `options.framework.master` with an address known only once the master listens.
    public init(
        options: Options, source: any GitSource, logger: Logger, masterAddress: (@Sendable () async throws -> HostPort)? = nil,
        onListening: @escaping @Sendable (HostPort) async -> Void = { _ in }
    ) {
        self.options = options
        self.source = source
        self.logger = logger
        self.masterAddress = masterAddress
        self.onListening = onListening
    }

    /// The framework's configuration once the API listens on `bound` and the master's address is known: the web UI
    /// URL (which `capstan status` follows) names the bound port, not a `--listen` port 0.
    static func frameworkConfiguration(_ options: Options, bound: HostPort, master: MasterAddress) -> ReconcilerConfiguration {
        var configuration = options.framework
        configuration.master = master
        if configuration.webuiURL == nil {
            // A wildcard listen address is not reachable as such: advertise this host's name instead.
            let wildcard = ["0.0.0.0", "::", "[::]", ""].contains(bound.host)
            let host = wildcard ? ProcessInfo.processInfo.hostName : bound.host
            configuration.webuiURL = HostPort(host: host, port: bound.port).url(tls: options.tls != nil)
        }
        return configuration
    }

    public func run() async throws {
        let store = try HistoryStore(path: options.historyPath, logger: logger)
        let frameworkConfiguration = options.framework
        let reconciler = Reconciler(configuration: frameworkConfiguration, store: store, logger: logger)
        let loader = DesiredStateLoader(source: source, path: options.path, logger: logger)
        await reconciler.setLoader(loader)
        await reconciler.restoreControls()
        await reconciler.setManifestReader { app, commit in
            guard let id = try? await loader.source.resolve(commit.hex),
                let loaded = try? await loader.load(commit: id), loaded.manifests.isValid
            else { return nil }
            return loaded.manifests.workloads.first { $0.name == app }
        }
        let watcher = RepositoryWatcher(source: source, revision: options.revision, interval: options.interval, logger: logger)
        let signature = try options.webhookSecret.map { try WebhookSignature(secret: $0) }
        let repo = source.remote.description
        let revision = options.revision
        var routes = ReconcilerRoutes(
            status: { await reconciler.status(repo: repo, revision: revision) },
            historyStore: store, verifySignature: signature?.check,
            onPush: { await watcher.trigger() }, logger: logger)
        routes.acceptsUnsignedWebhooks = options.webhookInsecure
        routes.appControls = .calling(reconciler)
        if signature == nil {
            if options.webhookInsecure {
                logger.warning("The webhook accepts unsigned pushes (--webhook-insecure): anyone who reaches the port can trigger fetches")
            } else {
                logger.notice("The webhook is off: no webhook secret is configured (polling only)")
            }
        }
        let app = try HTTPServer.application(
            router: routes.router(authenticator: options.httpAuthenticator), listen: options.listen, serverName: "capstan-reconciler",
            tls: options.tls, limits: options.connectionLimits, logger: logger
        ) { [bound, onListening] address in
            bound.set(address)
            await onListening(address)
        }
        let client = try frameworkConfiguration.clientTLS.map { try JSONPoster(tls: $0).client } ?? HTTPClient.shared
        let logger = self.logger
        let options = self.options
        let masterOverride = self.masterAddress
        let masterAddress: @Sendable () async throws -> MasterAddress = {
            guard let masterOverride else { return options.framework.master }
            return .masters([try await masterOverride()])
        }

        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await app.run() }
            group.addTask {
                await cancelWhenGracefulShutdown {
                    // The framework subscribes once the API listens (its web UI URL names the bound port) and the
                    // master's address is known.
                    guard let listening = try? await bound.value(), let master = try? await masterAddress() else { return }
                    let framework = ReconcilerFramework(
                        reconciler: reconciler, configuration: Self.frameworkConfiguration(options, bound: listening, master: master),
                        store: store, logger: logger, client: client)
                    await framework.run()
                }
            }
            group.addTask {
                await cancelWhenGracefulShutdown { await watcher.run() }
            }
            group.addTask {
                for await event in watcher.events {
                    switch event {
                    case .commit(let commit):
                        // Pinned apps (capstan rollback) are read at their pins; the rest at the commit.
                        await reconciler.load(commit: commit)
                    case .failed(let error):
                        await reconciler.sourceFailed("reading \(repo) failed: \(error.message)")
                    }
                }
            }
        }
    }
}
