import ArgumentParser
import CapstanReconciler
import Foundation

/// `capstan status`: where each app stands against git, read from the running reconciler.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each app's desired and running commit, instances and phase, from the running reconciler.",
        discussion: """
            Finds the reconciler through the master (the framework named 'capstan-reconciler'; its webui_url is \
            the reconciler's API) unless --reconciler gives its URL, and prints GET /api/v1/status: per app the \
            desired commit, the commit its tasks run, healthy/running/desired instances, the phase \
            (Synced, Progressing, Degraded, Failed) and why it is not Synced; then the error and file:line:column \
            diagnostics of an invalid commit.

            Exit codes: 0 when HEAD is applied and every app is Synced; 3 when some app is not Synced or the \
            newest commit could not be applied; 1 on errors (master or reconciler unreachable, no reconciler \
            registered).
            """)

    @OptionGroup var options: ReconcilerOptions

    /// The exit code when the cluster does not (yet) match git.
    static let notSyncedExitCode: Int32 = 3

    func run() async throws {
        var converged = true
        try await ReconcilerOptions.reportingErrors(of: "status") {
            let status = try await options.client().status()
            try options.output.write(status) { status.renderTable() }
            converged = status.isConverged
        }
        if !converged { throw ExitCode(Self.notSyncedExitCode) }
    }
}
