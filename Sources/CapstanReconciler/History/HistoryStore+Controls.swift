import Foundation
import GRDB

/// An app pinned to an earlier converged commit by `capstan rollback`: its manifest is read at `commit` while the
/// other apps follow HEAD, until a commit after `baseCommit` (the HEAD when it was pinned) changes the app's manifest.
public struct AppPin: Codable, Sendable, Equatable {
    public var app: String
    /// The full commit the app's manifest is read at.
    public var commit: String
    /// The full HEAD commit when the pin was set: the manifest there is what a newer commit must change to lift it.
    public var baseCommit: String
    public var time: Date

    public init(app: String, commit: String, baseCommit: String, time: Date = Date()) {
        self.app = app
        self.commit = commit
        self.baseCommit = baseCommit
        self.time = time
    }
}

extension HistoryStore {
    // MARK: Suspended apps

    /// Suspends (`true`) or resumes an app; kept across restarts.
    public func setSuspended(app: String, _ suspended: Bool, time: Date = Date()) async throws {
        try await write("\(suspended ? "suspend" : "resume") app '\(app)'") { db in
            if suspended {
                try SuspendedRow(app: app, time: time).upsert(db)
            } else {
                _ = try SuspendedRow.deleteOne(db, key: app)
            }
        }
    }

    /// The suspended apps' names.
    public func suspendedApps() async throws -> Set<String> {
        try await read("read the suspended apps") { db in Set(try SuspendedRow.fetchAll(db).map(\.app)) }
    }

    // MARK: Pins

    /// Pins an app (replacing an earlier pin).
    public func setPin(_ pin: AppPin) async throws {
        try await write("pin app '\(pin.app)'") { db in
            try PinRow(app: pin.app, commit: pin.commit, baseCommit: pin.baseCommit, time: pin.time).upsert(db)
        }
    }

    /// Lifts an app's pin; true when there was one.
    @discardableResult
    public func removePin(app: String) async throws -> Bool {
        try await write("unpin app '\(app)'") { db in try PinRow.deleteOne(db, key: app) }
    }

    /// Every pin, by app name.
    public func pins() async throws -> [String: AppPin] {
        try await read("read the pinned apps") { db in
            var out: [String: AppPin] = [:]
            for row in try PinRow.fetchAll(db) {
                out[row.app] = AppPin(app: row.app, commit: row.commit, baseCommit: row.baseCommit, time: row.time)
            }
            return out
        }
    }
}
