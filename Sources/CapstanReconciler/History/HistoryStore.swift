import CapstanCore
import Foundation
import GRDB
import Logging

/// The reconciler's state that must survive a restart, in SQLite: each app's history, the commit and template
/// label each app last converged to, the outcome of each sync, and the framework ID. Desired state is never
/// stored here; it comes only from git.
///
/// A `final class` rather than an actor: GRDB's `DatabaseQueue` already serialises every access on its own
/// dispatch queue, and its async `read`/`write` run the (blocking) SQLite calls there and resume the caller when
/// done. An actor around it would add a second serialisation and run nothing better; one that called the
/// synchronous API would block a thread of the cooperative pool on disk I/O instead.
public final class HistoryStore: Sendable {
    /// The path that opens a private in-memory database (for tests and `--dry-run`-style runs).
    public static let inMemoryPath = ":memory:"

    /// The database file (or `:memory:`), named in every error.
    public let path: String
    /// How many rows each app keeps; older ones are deleted as new ones come.
    public let historyRetention: Int
    /// How many sync rows are kept.
    public let syncRetention: Int
    private let queue: DatabaseQueue
    private let logger: Logger

    /// Opens (creating it and its directory if needed) the database at `path` and brings its schema up to date.
    public init(path: String, historyRetention: Int = 1000, syncRetention: Int = 1000, logger: Logger) throws {
        self.path = path
        self.historyRetention = max(1, historyRetention)
        self.syncRetention = max(1, syncRetention)
        self.logger = logger
        var configuration = Configuration()
        configuration.label = "capstan.reconciler.history"
        configuration.busyMode = .timeout(5)
        // Rollback journal with synchronous = FULL: a commit that returned is on disk (the framework ID among it, which
        // a restarted reconciler needs to fail over rather than register anew), and a power cut never leaves half a
        // transaction. WAL would save fsyncs, but one writer does not need its concurrency.
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = DELETE")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            if path == Self.inMemoryPath {
                queue = try DatabaseQueue(configuration: configuration)
            } else {
                let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                queue = try DatabaseQueue(path: path, configuration: configuration)
            }
            try Self.migrator.migrate(queue)
        } catch {
            throw Self.damage(path, error)
                ?? CapstanError(.unavailable, "Cannot open the reconciler history database '\(path)'", cause: error)
        }
        logger.debug("History database open", metadata: ["path": "\(path)"])
    }

    /// A private database that lives as long as the store.
    public static func inMemory(logger: Logger = Logger(label: "capstan.reconciler.history")) throws -> HistoryStore {
        try HistoryStore(path: inMemoryPath, logger: logger)
    }

    // MARK: History

    /// Appends an entry (its `id` is ignored) and returns it with the ID the database gave it; the app's oldest
    /// rows beyond `historyRetention` are deleted.
    @discardableResult
    public func record(_ entry: HistoryEntry) async throws -> HistoryEntry {
        let retention = historyRetention
        return try await write("record a '\(entry.event.rawValue)' event of app '\(entry.app)'") { db in
            var row = entry
            row.id = nil
            try row.insert(db)
            try db.execute(
                sql: """
                    DELETE FROM history WHERE app = ? AND id <= (
                        SELECT id FROM history WHERE app = ? ORDER BY id DESC LIMIT 1 OFFSET ?)
                    """,
                arguments: [entry.app, entry.app, retention])
            return row
        }
    }

    /// The app's newest `limit` entries, newest first (an unknown app has none).
    public func history(app: String, limit: Int = 100) async throws -> [HistoryEntry] {
        guard limit > 0 else {
            throw CapstanError(.invalidArgument, "A history limit must be positive, not \(limit)")
        }
        return try await read("read the history of app '\(app)'") { db in
            try HistoryEntry.filter(Column("app") == app).order(Column("id").desc).limit(limit).fetchAll(db)
        }
    }

    // MARK: Converged state

    /// Remembers that `app` converged to `commit` with template `specLabel`.
    public func setConverged(app: String, commit: String, specLabel: String, time: Date = Date()) async throws {
        try await write("store the converged commit of app '\(app)'") { db in
            try ConvergedRow(app: app, commit: commit, specLabel: specLabel, time: time).upsert(db)
        }
    }

    /// What `app` last converged to, or nil if it never did (or was removed).
    public func lastConverged(app: String) async throws -> ConvergedApp? {
        try await read("read the converged commit of app '\(app)'") { db in
            try ConvergedRow.fetchOne(db, key: app).map { ConvergedApp(commit: $0.commit, specLabel: $0.specLabel, time: $0.time) }
        }
    }

    /// Every app's converged state, by app name.
    public func convergedApps() async throws -> [String: ConvergedApp] {
        try await read("read the converged apps") { db in
            var result: [String: ConvergedApp] = [:]
            for row in try ConvergedRow.fetchAll(db) {
                result[row.app] = ConvergedApp(commit: row.commit, specLabel: row.specLabel, time: row.time)
            }
            return result
        }
    }

    /// Forgets an app's converged state (it left git); its history rows stay.
    public func removeApp(_ app: String) async throws {
        try await write("remove app '\(app)'") { db in
            _ = try ConvergedRow.deleteOne(db, key: app)
        }
    }

    // MARK: Framework ID

    /// The framework ID the master gave the reconciler, so that a restart re-subscribes as the same framework.
    public func frameworkID() async throws -> String? {
        try await read("read the framework ID") { db in
            try SettingRow.fetchOne(db, key: SettingRow.frameworkIDKey)?.value
        }
    }

    /// Stores (or, with nil, forgets: after a teardown) the framework ID.
    public func setFrameworkID(_ id: String?) async throws {
        try await write("store the framework ID") { db in
            if let id {
                try SettingRow(key: SettingRow.frameworkIDKey, value: id).upsert(db)
            } else {
                _ = try SettingRow.deleteOne(db, key: SettingRow.frameworkIDKey)
            }
        }
    }

    // MARK: Syncs

    /// Records one pass over `commit`; rows beyond `syncRetention` are deleted, oldest first.
    public func recordSync(commit: String, outcome: SyncOutcome, message: String, time: Date = Date()) async throws {
        let retention = syncRetention
        try await write("record a sync of commit \(commit)") { db in
            var row = SyncRow(id: nil, commit: commit, outcome: outcome, message: message, time: time)
            try row.insert(db)
            try db.execute(
                sql: "DELETE FROM sync WHERE id <= (SELECT id FROM sync ORDER BY id DESC LIMIT 1 OFFSET ?)",
                arguments: [retention])
        }
    }

    /// The newest sync, whatever its outcome.
    public func lastSync() async throws -> SyncRecord? {
        try await read("read the last sync") { db in
            try SyncRow.order(Column("id").desc).fetchOne(db)?.record
        }
    }

    /// The newest `limit` syncs, newest first.
    public func syncs(limit: Int = 100) async throws -> [SyncRecord] {
        try await read("read the syncs") { db in
            try SyncRow.order(Column("id").desc).limit(max(0, limit)).fetchAll(db).map(\.record)
        }
    }

    /// The commit of the newest sync that was applied: what runs while later commits are invalid.
    public func lastAppliedCommit() async throws -> String? {
        try await read("read the last applied commit") { db in
            try SyncRow.filter(Column("outcome") == SyncOutcome.applied.rawValue).order(Column("id").desc).fetchOne(db)?.commit
        }
    }

    // MARK: Access

    func read<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await queue.read(body)
        } catch {
            throw failure(what, error)
        }
    }

    func write<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await queue.write(body)
        } catch {
            throw failure(what, error)
        }
    }

    private func failure(_ what: String, _ error: any Error) -> CapstanError {
        if let error = error as? CapstanError { return error }
        logger.error("History database failed", metadata: ["path": "\(path)", "error": "\(error)"])
        return Self.damage(path, error)
            ?? CapstanError(.internal, "Cannot \(what) in the reconciler history database '\(path)'", cause: error)
    }

    /// The error for a database file that SQLite finds damaged (`SQLITE_CORRUPT`, `SQLITE_NOTADB`), naming it and what
    /// to do; nil for any other failure.
    static func damage(_ path: String, _ error: any Error) -> CapstanError? {
        guard let error = error as? DatabaseError, [.SQLITE_CORRUPT, .SQLITE_NOTADB].contains(error.resultCode) else { return nil }
        return CapstanError(
            .failedPrecondition,
            "The reconciler history database \(path) is torn or corrupted (\(error.message ?? "\(error.resultCode)")); the reconciler will not guess its framework ID, pins or suspensions. Restore it from a backup, or move it aside to start afresh (the reconciler then registers as a new framework: tasks of the old one end when its failover timeout passes), and start again")
    }
}
