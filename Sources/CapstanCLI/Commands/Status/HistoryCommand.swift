import ArgumentParser
import CapstanCore
import CapstanReconciler
import Foundation

/// `capstan history APP`: what the reconciler did to an app, newest first.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show an app's history (created, updated, scaled, converged, failed, reverted…), newest first.",
        discussion: """
            Reads GET /api/v1/history/APP from the running reconciler, found as for `capstan status`. \
            History outlives the app: a deleted app still shows its past. Exits 0, or 1 on errors (an app that is neither \
            deployed nor in the history included).
            """)

    @Argument(help: "The app's name (metadata.name in its manifest).")
    var app: String

    @Option(help: "How many entries to show, from 1 to \(ReconcilerRoutes.maxHistoryLimit).")
    var limit: Int = ReconcilerRoutes.defaultHistoryLimit

    @OptionGroup var options: ReconcilerOptions

    func validate() throws {
        guard (1...ReconcilerRoutes.maxHistoryLimit).contains(limit) else {
            throw ValidationError("--limit must be from 1 to \(ReconcilerRoutes.maxHistoryLimit)")
        }
    }

    func run() async throws {
        try await ReconcilerOptions.reportingErrors(of: "history") {
            let client = try await options.client()
            let page = try await client.history(app: app, limit: limit)
            if page.entries.isEmpty, try await !client.status().apps.contains(where: { $0.name == app }) {
                throw CapstanError(.notFound, "no app named '\(app)': it is not deployed and has no history")
            }
            try options.output.write(page) { page.renderTable() }
        }
    }
}
