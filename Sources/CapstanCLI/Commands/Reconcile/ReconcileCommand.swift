import ArgumentParser
import CapstanCore
import CapstanGit
import CapstanReconciler
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `capstan reconcile`: the GitOps controller as a daemon, a framework on a running master.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Keep a master's cluster matching the manifests in a git repository (a framework on the master).",
        discussion: """
            Polls --repo every --interval (and at once on POST /api/v1/webhook), applies each valid commit with \
            rolling updates, replaces tasks that die, and prunes apps removed from git. An invalid commit changes \
            nothing; `capstan status` shows its file:line:col errors.
            """)

    @Option(help: "The master: HOST:PORT; several (comma-separated) masters on etcd; or etcd://HOST:PORT,…/PREFIX. The reconciler follows whichever leads.")
    var master: String = "127.0.0.1:5050"

    @Option(help: "Address the reconciler's HTTP API (status, history, webhook) listens on (port 0: the kernel picks one; see --listen-file).")
    var listen: String = "127.0.0.1:5052"

    @Option(help: ArgumentHelp(ListenFile.help, valueName: "path"))
    var listenFile: String?

    @Option(help: "Directory for the reconciler's state (sync history, git cache).")
    var workDir: String = ".capstan/reconciler"

    @OptionGroup var git: GitOptions
    @OptionGroup var reconciler: ReconcileFlags
    @OptionGroup(title: "Master credentials") var credentials: ClientCredentialFlags
    @OptionGroup(title: "TLS") var tls: TLSFlags
    @OptionGroup(title: "Authentication of the reconciler's API") var auth: HTTPAuthFlags
    @OptionGroup(title: "Client limits") var limits: ConnectionLimitOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        _ = try logging.bootstrap()
        let root = URL(fileURLWithPath: workDir).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let source = try git.source(workDirectory: root)
        let address = try FlagParsing.hostPort(listen, flag: "--listen")
        var options = try await reconciler.daemonOptions(
            git: git, source: source, listen: address, master: try FlagParsing.masterAddress(master, flag: "--master"), workDir: root)
        options.connectionLimits = try limits.limits()
        options.framework.authorization = try credentials.authorization()
        options.tls = try tls.server()
        options.framework.clientTLS = try tls.client()
        options.httpAuthenticator = auth.authenticateHTTP ? try auth.authenticator() : nil
        try auth.checkListen(address, flag: "--listen", command: "reconcile", open: options.openSurfaces)
        let started = options
        let logger = logging.logger("capstan.reconciler")
        let listenFile = self.listenFile
        let daemon = ReconcilerDaemon(options: started, source: source, logger: logger, onListening: { address in
            Console.line("capstan reconciler listening on \(address.url(tls: started.tls != nil))  (status /api/v1/status, webhook /api/v1/webhook)")
            Console.line("following \(source.remote) at \(started.revision)\(started.path.isEmpty ? "" : ", path \(started.path)"), every \(started.interval)")
            await ListenFile.write(address, to: listenFile, logger: logger)
        })
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: daemon)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
