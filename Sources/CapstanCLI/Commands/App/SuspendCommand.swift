import ArgumentParser
import CapstanReconciler
import Foundation

/// `capstan suspend APP`: pause reconciliation of one app (persisted by the reconciler).
struct SuspendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suspend",
        abstract: "Pause reconciliation of one app: its tasks are neither started, killed nor updated until capstan resume.",
        discussion: """
            The reconciler keeps observing the app (status, health, history) and remembers the suspension across restarts; \
            `capstan status`, `capstan app get` and `capstan diff` show it. Exits 1 for an app the reconciler does not know.
            """)

    @Argument(help: "The app's name (metadata.name in its manifest).")
    var app: String

    @OptionGroup var options: ReconcilerOptions

    func run() async throws {
        try await ReconcilerOptions.reportingErrors(of: "suspend") {
            let reply = try await options.client().setSuspended(app: app, true)
            try options.output.write(reply) { reply.message + "\n" }
        }
    }
}

/// `capstan resume APP`: reconcile a suspended app again.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Reconcile a suspended app again (it converges to git from its next step).",
        discussion: "Exits 1 for an app the reconciler does not know.")

    @Argument(help: "The app's name.")
    var app: String

    @OptionGroup var options: ReconcilerOptions

    func run() async throws {
        try await ReconcilerOptions.reportingErrors(of: "resume") {
            let reply = try await options.client().setSuspended(app: app, false)
            try options.output.write(reply) { reply.message + "\n" }
        }
    }
}

/// `capstan rollback APP [REV]`: pin an app to an earlier converged commit until a newer commit changes it.
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Pin an app to an earlier commit where it converged, until a newer commit changes its manifest.",
        discussion: """
            Without REV the app goes back to the newest commit in its history where it converged with another manifest \
            than HEAD's. REV (a commit, branch or tag) must be a commit where the app converged. While pinned the reconciler \
            reads this app's manifest at the pin (the other apps at HEAD); the pin lifts by itself when a newer commit \
            changes the app's manifest, or with --clear. Shown as `pinned` in capstan status, app get and diff.
            """)

    @Argument(help: "The app's name.")
    var app: String

    @Argument(help: "A commit where the app converged (default: the previous one).")
    var revision: String?

    @Flag(help: "Lift the pin: the app follows HEAD again.")
    var clear = false

    @OptionGroup var options: ReconcilerOptions

    func validate() throws {
        if clear && revision != nil { throw ValidationError("give either a revision or --clear, not both") }
    }

    func run() async throws {
        try await ReconcilerOptions.reportingErrors(of: "rollback") {
            let reply = try await options.client().rollback(app: app, RollbackRequest(revision: revision, clear: clear))
            try options.output.write(reply) { reply.message + "\n" }
        }
    }
}
