public import CapstanCore
import CapstanAPI
import Foundation
import GRDB

/// The master's registry in one SQLite database (`<work-dir>/registry.sqlite`): tables of admitted agents, frameworks,
/// role weights and quotas, and a one-row table of the maintenance schedule, each row a record's Mesos JSON. Every
/// `apply` is one transaction in rollback-journal mode (`journal_mode = DELETE`) with `synchronous = FULL`: SQLite
/// fsyncs the journal before it touches the database and the database before it deletes the journal, so a crash or a
/// power cut leaves the registry before or after a transaction, never between, and a transaction that returned is on
/// disk. (WAL would save fsyncs, but one writer does not need its concurrency, and the registry stays one file to
/// copy.) A database file that SQLite finds torn or corrupt is an error naming it.
public final class SQLiteMasterRegistry: MasterRegistry {
    public let path: String
    private let queue: DatabaseQueue

    /// Opens (creating it and its directory when needed) the registry at `path`.
    public init(path: String) throws(CapstanError) {
        self.path = path
        var configuration = Configuration()
        configuration.label = "capstan.master.registry"
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = DELETE")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try Self.migrator.migrate(queue)
        } catch {
            throw Self.failure("open", path: path, error)
        }
    }

    /// The error for a failed `what`: a damaged database file (SQLite's `SQLITE_CORRUPT`, `SQLITE_NOTADB`) is named with
    /// what to do about it; anything else is `unavailable`.
    static func failure(_ what: String, path: String, _ error: any Error) -> CapstanError {
        if let error = error as? CapstanError { return error }
        if let error = error as? DatabaseError, [.SQLITE_CORRUPT, .SQLITE_NOTADB].contains(error.resultCode) {
            return CapstanError(
                .failedPrecondition,
                "The master's registry database \(path) is torn or corrupted (\(error.message ?? "\(error.resultCode)")); the master will not guess what it held. Restore it from a backup, or move it aside to start with an empty registry (agents and frameworks then register as new ones), and start the master again")
        }
        return CapstanError(.unavailable, "Cannot \(what) the master's registry database '\(path)'", cause: error)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: agents, frameworks") { db in
            try db.create(table: "agent") { table in
                table.primaryKey("id", .text)
                table.column("record", .text).notNull()
            }
            try db.create(table: "framework") { table in
                table.primaryKey("id", .text)
                table.column("record", .text).notNull()
            }
        }
        // Added later: a database of the first version gains the tables on open and reads as before.
        migrator.registerMigration("v2: weights, quotas, maintenance") { db in
            for name in ["weight", "quota", "maintenance"] {
                try db.create(table: name) { table in
                    table.primaryKey("id", .text)
                    table.column("record", .text).notNull()
                }
            }
        }
        return migrator
    }

    /// The key of the maintenance table's only row.
    static let maintenanceRow = "schedule"

    public func load() async throws -> RegistryContents {
        let path = self.path
        do {
            return try await queue.read { db in
                try Self.contents(db, path: path)
            }
        } catch {
            throw Self.failure("read", path: path, error)
        }
    }

    private static func contents(_ db: Database, path: String) throws -> RegistryContents {
        var contents = RegistryContents()
        for row in try Row.fetchAll(db, sql: "SELECT id, record FROM agent") {
            let agent: RegisteredAgent = try Self.decode(row, table: "agent", path: path)
            contents.agents[agent.id] = agent
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, record FROM framework") {
            let framework: RegisteredFramework = try Self.decode(row, table: "framework", path: path)
            contents.frameworks[framework.id] = framework
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, record FROM weight") {
            let weight: WeightInfo = try Self.decode(row, table: "weight", path: path)
            contents.weights[row["id"]] = weight.weight
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, record FROM quota") {
            let quota: QuotaInfo = try Self.decode(row, table: "quota", path: path)
            contents.quotas[row["id"]] = quota
        }
        if let row = try Row.fetchOne(db, sql: "SELECT id, record FROM maintenance WHERE id = ?", arguments: [Self.maintenanceRow]) {
            contents.maintenance = try Self.decode(row, table: "maintenance", path: path)
        }
        return contents
    }

    public func apply(_ operations: [RegistryOperation]) async throws {
        guard !operations.isEmpty else { return }
        let rows = try operations.map { operation -> (sql: String, arguments: StatementArguments) in
            switch operation {
            case .admitAgent(let agent):
                ("INSERT OR REPLACE INTO agent (id, record) VALUES (?, ?)", [agent.id.value, try Self.encode(agent)])
            case .removeAgent(let id):
                ("DELETE FROM agent WHERE id = ?", [id.value])
            case .recordFramework(let framework):
                ("INSERT OR REPLACE INTO framework (id, record) VALUES (?, ?)", [framework.id.value, try Self.encode(framework)])
            case .removeFramework(let id):
                ("DELETE FROM framework WHERE id = ?", [id.value])
            case .setWeight(let role, let weight):
                ("INSERT OR REPLACE INTO weight (id, record) VALUES (?, ?)", [role, try Self.encode(WeightInfo(weight: weight, role: role))])
            case .setQuota(let quota):
                ("INSERT OR REPLACE INTO quota (id, record) VALUES (?, ?)", [quota.registryRole, try Self.encode(quota)])
            case .removeQuota(let role):
                ("DELETE FROM quota WHERE id = ?", [role])
            case .updateMaintenance(let maintenance):
                ("INSERT OR REPLACE INTO maintenance (id, record) VALUES (?, ?)", [Self.maintenanceRow, try Self.encode(maintenance)])
            }
        }
        do {
            try await queue.write { db in
                for row in rows { try db.execute(sql: row.sql, arguments: row.arguments) }
            }
        } catch {
            throw Self.failure("write", path: path, error)
        }
    }

    private static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try MesosJSON.encode(value), as: UTF8.self)
    }

    private static func decode<T: Decodable>(_ row: Row, table: String, path: String) throws -> T {
        let id: String = row["id"]
        let text: String = row["record"]
        do {
            return try MesosJSON.decode(T.self, from: Data(text.utf8))
        } catch {
            throw CapstanError(
                .failedPrecondition, "The master's registry \(path) holds an unreadable \(table) row '\(id)'; the master will not guess what it held",
                cause: error)
        }
    }
}
