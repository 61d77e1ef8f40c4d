import Foundation
import GRDB

extension HistoryStore {
    /// The schema, one registered migration per change; never edit a shipped migration, add the next one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: history, converged apps, syncs, settings") { db in
            // Events per app; rows stay when an app is removed, so `capstan history` still shows its deletion.
            try db.create(table: HistoryEntry.databaseTableName) { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("app", .text).notNull()
                table.column("event", .text).notNull()
                table.column("commit", .text).notNull()
                table.column("specLabel", .text)
                table.column("message", .text).notNull()
                table.column("time", .datetime).notNull()
            }
            try db.create(index: "history_by_app", on: HistoryEntry.databaseTableName, columns: ["app", "id"])
            // The commit and template label each app last converged to (what to revert to, what a restart compares).
            try db.create(table: ConvergedRow.databaseTableName) { table in
                table.primaryKey("app", .text)
                table.column("commit", .text).notNull()
                table.column("specLabel", .text).notNull()
                table.column("time", .datetime).notNull()
            }
            // One row per pass over a commit (pruned to the newest `syncRetention`).
            try db.create(table: SyncRow.databaseTableName) { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("commit", .text).notNull()
                table.column("outcome", .text).notNull()
                table.column("message", .text).notNull()
                table.column("time", .datetime).notNull()
            }
            // Single values such as the framework ID.
            try db.create(table: SettingRow.databaseTableName) { table in
                table.primaryKey("key", .text)
                table.column("value", .text).notNull()
            }
        }
        migrator.registerMigration("v2: suspended and pinned apps") { db in
            // Apps whose reconciliation is paused (`capstan suspend`), kept across restarts.
            try db.create(table: SuspendedRow.databaseTableName) { table in
                table.primaryKey("app", .text)
                table.column("time", .datetime).notNull()
            }
            // Apps pinned to an earlier converged commit (`capstan rollback`), with the HEAD they were pinned at.
            try db.create(table: PinRow.databaseTableName) { table in
                table.primaryKey("app", .text)
                table.column("commit", .text).notNull()
                table.column("baseCommit", .text).notNull()
                table.column("time", .datetime).notNull()
            }
        }
        return migrator
    }
}

/// A row of `suspended_app`.
struct SuspendedRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "suspended_app"
    var app: String
    var time: Date
}

/// A row of `pinned_app`.
struct PinRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "pinned_app"
    var app: String
    var commit: String
    var baseCommit: String
    var time: Date
}

extension HistoryEntry: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "history"

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

extension HistoryEvent: DatabaseValueConvertible {}
extension SyncOutcome: DatabaseValueConvertible {}

/// A row of `converged_app`.
struct ConvergedRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "converged_app"
    var app: String
    var commit: String
    var specLabel: String
    var time: Date
}

/// A row of `sync`.
struct SyncRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "sync"
    var id: Int64?
    var commit: String
    var outcome: SyncOutcome
    var message: String
    var time: Date

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    var record: SyncRecord { SyncRecord(commit: commit, outcome: outcome, message: message, time: time) }
}

/// A row of `setting`.
struct SettingRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "setting"
    var key: String
    var value: String

    static let frameworkIDKey = "framework_id"
}
