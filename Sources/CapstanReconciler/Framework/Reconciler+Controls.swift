import CapstanCore
import Foundation
import Logging

/// What `capstan diff` needs from the reconciler to plan exactly as it does (`GET /api/v1/controls`): the suspended
/// apps, the pins, and the jobs its history knows to be done.
public struct ReconcilerControls: Codable, Sendable, Equatable {
    public var suspended: [String]
    public var pins: [AppPin]
    /// Jobs whose run the history records as completed: the template label of that run, by job name.
    public var completedJobs: [String: String]

    public init(suspended: [String] = [], pins: [AppPin] = [], completedJobs: [String: String] = [:]) {
        self.suspended = suspended.sorted()
        self.pins = pins.sorted { $0.app < $1.app }
        self.completedJobs = completedJobs
    }
}

/// The answer of the suspend, resume and rollback routes: where the app stands now.
public struct AppControlReply: Codable, Sendable, Equatable {
    public var app: String
    public var suspended: Bool
    /// The full commit the app is pinned to; nil when it follows HEAD.
    public var pinned: String?
    /// One sentence for people.
    public var message: String

    public init(app: String, suspended: Bool, pinned: String?, message: String) {
        self.app = app
        self.suspended = suspended
        self.pinned = pinned
        self.message = message
    }
}

extension Reconciler {
    /// Reads the suspended apps and pins the history store keeps (at start-up, before the first commit).
    public func restoreControls() async {
        do {
            machine.suspended = Set(try await store.suspendedApps().map { AppName($0) })
            pins = try await store.pins()
        } catch {
            logger.error("Could not read the suspended and pinned apps", metadata: ["error": "\(error)"])
        }
    }

    /// The apps the reconciler knows: desired ones and ones with live tasks.
    func knownApps() -> Set<AppName> {
        Set(machine.apps.keys).union(machine.tasks.values.filter(\.isLive).map(\.app))
    }

    /// Throws `notFound` naming the known apps when `app` is not one of them.
    func requireKnown(_ app: String) throws -> AppName {
        let name = AppName(app)
        let known = knownApps()
        guard known.contains(name) else {
            let list = known.map(\.value).sorted()
            throw CapstanError(
                .notFound,
                "no app named '\(app)': the reconciler deploys \(list.isEmpty ? "no apps yet" : list.joined(separator: ", ")) (see capstan app list)")
        }
        return name
    }

    /// Pauses (`true`) or resumes reconciliation of one app; persisted. A suspended app keeps its tasks as they are.
    public func setSuspended(_ app: String, _ suspended: Bool) async throws -> AppControlReply {
        let name = try requireKnown(app)
        let was = machine.suspended.contains(name)
        try await store.setSuspended(app: app, suspended)
        if suspended { machine.suspended.insert(name) } else { machine.suspended.remove(name) }
        let message: String
        if was == suspended {
            message = "\(app) was already \(suspended ? "suspended" : "reconciled")"
        } else {
            message = suspended
                ? "\(app) is suspended: its tasks are left as they are until capstan resume \(app)"
                : "\(app) is reconciled again"
            let commit = machine.apps[name]?.commit.hex ?? machine.appliedCommit?.hex ?? ""
            await journal(JournalEntry(app: name, event: suspended ? .suspended : .resumed, commit: commit, message: message))
            logger.notice(suspended ? "App suspended" : "App resumed", metadata: ["app": "\(app)"])
        }
        return AppControlReply(app: app, suspended: suspended, pinned: pins[app]?.commit, message: message)
    }

    /// The plan the reconciler carries out now (what `capstan diff` against the live cluster shows).
    public func plan() -> Plan { machine.plan() }

    /// The suspended apps, pins and completed jobs, for `capstan diff`.
    public func controls() -> ReconcilerControls {
        var completed: [String: String] = [:]
        for (app, mark) in machine.converged where mark.instances == nil && machine.apps[app]?.isJob ?? true {
            completed[app.value] = mark.template
        }
        return ReconcilerControls(suspended: machine.suspended.map(\.value), pins: Array(pins.values), completedJobs: completed)
    }
}
