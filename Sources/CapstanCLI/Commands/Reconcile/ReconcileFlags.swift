import ArgumentParser
import CapstanCore
import CapstanGit
import CapstanReconciler
import Foundation

/// The reconciler's own flags, shared by `capstan reconcile` and `capstan up`.
struct ReconcileFlags: ParsableArguments {
    static let secretVariable = "CAPSTAN_WEBHOOK_SECRET"

    @Option(help: ArgumentHelp("Delete at most this many apps per sync; a sync that would delete more deletes none.", valueName: "n"))
    var maxDeletions: Int?

    @Flag(help: "Apply a commit that declares no apps or jobs, deleting everything that runs (refused by default, as Argo CD's allowEmpty).")
    var allowEmpty = false

    @Option(help: ArgumentHelp("A file holding the webhook secret for X-Hub-Signature-256 (default: env \(ReconcileFlags.secretVariable)).", valueName: "file"))
    var webhookSecretFile: String?

    @Flag(help: "Accept unsigned webhooks when no webhook secret is configured (without a secret the webhook is off).")
    var webhookInsecure = false

    @Option(help: "The role the reconciler's framework subscribes with; its apps' persistent volumes are reserved for it.")
    var role: String = ReconcilerConfiguration.defaultRole

    @Option(help: "The user tasks run as when a manifest names none.")
    var user: String = "root"

    func validate() throws {
        if let maxDeletions, maxDeletions < 0 { throw ValidationError("--max-deletions: must be 0 or more") }
    }

    func webhookSecret(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        if let webhookSecretFile {
            guard let data = FileManager.default.contents(atPath: webhookSecretFile) else {
                throw ValidationError("--webhook-secret-file: cannot read \(webhookSecretFile)")
            }
            let secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !secret.isEmpty else { throw ValidationError("--webhook-secret-file: \(webhookSecretFile) is empty") }
            return secret
        }
        return environment[Self.secretVariable].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The daemon's options for a repository already opened as `source`.
    func daemonOptions(
        git: GitOptions, source: LibGit2Source, listen: HostPort, master: MasterAddress, workDir: String, subPath: String? = nil
    ) async throws -> ReconcilerDaemon.Options {
        let revision = await git.revision(of: source)
        var options = ReconcilerDaemon.Options(
            listen: listen, revision: revision, path: subPath ?? git.subPath, interval: try git.pollInterval,
            historyPath: workDir + "/history.sqlite", webhookSecret: try webhookSecret(),
            framework: ReconcilerConfiguration(master: master, role: role, user: user, maxDeletions: maxDeletions))
        options.framework.allowEmpty = allowEmpty
        options.webhookInsecure = webhookInsecure
        return options
    }
}

extension ReconcilerDaemon.Options {
    /// What a reconciler with these options leaves open, for the non-loopback check (`reconcile` and `up`).
    var openSurfaces: [String] {
        var open: [String] = []
        if webhookSecret == nil { open.append("the webhook has no secret (--webhook-secret-file)") }
        if tls == nil { open.append(TLSFlags.unencrypted) }
        if httpAuthenticator == nil { open.append("the status API is open (--authenticate-http)") }
        return open
    }
}
