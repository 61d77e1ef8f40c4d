import CapstanCore
import CapstanReconciler
import Foundation
import Logging
import Testing

/// A scratch directory removed when the body returns.
func withScratchDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-history-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

@Suite("HistoryStore")
struct HistoryStoreTests {
    let logger = Logger(label: "capstan.test.history")
    /// Whole milliseconds: SQLite keeps dates to the millisecond.
    let t0 = Date(timeIntervalSince1970: 1_790_000_000.125)

    @Test("Entries come back newest first, per app, with the IDs the database gave them, up to the limit")
    func historyNewestFirst() async throws {
        try await withScratchDirectory { dir in
            let store = try HistoryStore(path: dir + "/history.sqlite", logger: logger)
            let created = try await store.record(HistoryEntry(app: "web", event: .created, commit: "aaaaaaaaaaaa", specLabel: "s1", message: "created 2 instances", time: t0))
            try await store.record(HistoryEntry(app: "db", event: .created, commit: "aaaaaaaaaaaa", message: "created", time: t0))
            try await store.record(HistoryEntry(app: "web", event: .scaled, commit: "bbbbbbbbbbbb", specLabel: "s1", message: "scaled 2 → 3", time: t0 + 10))
            try await store.record(HistoryEntry(app: "web", event: .invalidCommit, commit: "cccccccccccc", message: "web.yaml:3:5: spec.instances: expected an integer", time: t0 + 20))

            #expect(created.id != nil)
            let web = try await store.history(app: "web")
            #expect(web.map(\.event) == [.invalidCommit, .scaled, .created])
            #expect(web.last == created)
            #expect(web[1].specLabel == "s1" && web[1].time == t0 + 10 && web[0].specLabel == nil)
            #expect(try await store.history(app: "web", limit: 1).map(\.commit) == ["cccccccccccc"])
            #expect(try await store.history(app: "db").count == 1)
            #expect(try await store.history(app: "nope").isEmpty)
            await #expect(throws: CapstanError.self) { try await store.history(app: "web", limit: 0) }
        }
    }

    @Test("Each app keeps only its newest rows beyond the retention")
    func historyRetention() async throws {
        let store = try HistoryStore(path: HistoryStore.inMemoryPath, historyRetention: 3, logger: logger)
        for index in 0..<5 {
            try await store.record(HistoryEntry(app: "web", event: .restarted, commit: "c\(index)", message: "restart \(index)"))
        }
        try await store.record(HistoryEntry(app: "db", event: .created, commit: "c0", message: "created"))
        #expect(try await store.history(app: "web").map(\.commit) == ["c4", "c3", "c2"])
        #expect(try await store.history(app: "db").count == 1)
    }

    @Test("Converged commits are set, replaced and removed; removing an app keeps its history")
    func convergedApps() async throws {
        let store = try HistoryStore.inMemory(logger: logger)
        #expect(try await store.lastConverged(app: "web") == nil)
        try await store.setConverged(app: "web", commit: "aaaaaaaaaaaa", specLabel: "s1", time: t0)
        try await store.setConverged(app: "db", commit: "aaaaaaaaaaaa", specLabel: "d1", time: t0)
        try await store.setConverged(app: "web", commit: "bbbbbbbbbbbb", specLabel: "s2", time: t0 + 5)
        #expect(try await store.lastConverged(app: "web") == ConvergedApp(commit: "bbbbbbbbbbbb", specLabel: "s2", time: t0 + 5))
        #expect(try await store.convergedApps().keys.sorted() == ["db", "web"])

        try await store.record(HistoryEntry(app: "web", event: .deleted, commit: "cccccccccccc", message: "removed from git"))
        try await store.removeApp("web")
        #expect(try await store.lastConverged(app: "web") == nil)
        #expect(try await store.convergedApps() == ["db": ConvergedApp(commit: "aaaaaaaaaaaa", specLabel: "d1", time: t0)])
        #expect(try await store.history(app: "web").map(\.event) == [.deleted])
    }

    @Test("Syncs: the newest one, the last applied commit past invalid ones, and retention")
    func syncs() async throws {
        let store = try HistoryStore(path: HistoryStore.inMemoryPath, syncRetention: 2, logger: logger)
        #expect(try await store.lastSync() == nil)
        #expect(try await store.lastAppliedCommit() == nil)
        try await store.recordSync(commit: "aaaaaaaaaaaa", outcome: .applied, message: "2 changes", time: t0)
        try await store.recordSync(commit: "bbbbbbbbbbbb", outcome: .invalid, message: "1 error", time: t0 + 1)
        #expect(try await store.lastSync() == SyncRecord(commit: "bbbbbbbbbbbb", outcome: .invalid, message: "1 error", time: t0 + 1))
        #expect(try await store.lastAppliedCommit() == "aaaaaaaaaaaa")
        try await store.recordSync(commit: "cccccccccccc", outcome: .failed, message: "master unreachable", time: t0 + 2)
        #expect(try await store.syncs().map(\.commit) == ["cccccccccccc", "bbbbbbbbbbbb"])
        #expect(try await store.lastAppliedCommit() == nil, "the applied sync fell out of the retention")
    }

    @Test("Reopening the file keeps the converged commits, the framework ID, history and syncs")
    func reopeningKeepsState() async throws {
        try await withScratchDirectory { dir in
            let path = dir + "/state/reconciler.sqlite"
            do {
                let store = try HistoryStore(path: path, logger: logger)
                try await store.setFrameworkID("5f3c-0001")
                try await store.setConverged(app: "web", commit: "aaaaaaaaaaaa", specLabel: "s1", time: t0)
                try await store.record(HistoryEntry(app: "web", event: .converged, commit: "aaaaaaaaaaaa", specLabel: "s1", message: "3/3 healthy", time: t0))
                try await store.recordSync(commit: "aaaaaaaaaaaa", outcome: .applied, message: "ok", time: t0)
            }
            let reopened = try HistoryStore(path: path, logger: logger)
            #expect(try await reopened.frameworkID() == "5f3c-0001")
            #expect(try await reopened.lastConverged(app: "web") == ConvergedApp(commit: "aaaaaaaaaaaa", specLabel: "s1", time: t0))
            #expect(try await reopened.history(app: "web").map(\.event) == [.converged])
            #expect(try await reopened.lastAppliedCommit() == "aaaaaaaaaaaa")

            try await reopened.setFrameworkID("5f3c-0002")
            #expect(try await reopened.frameworkID() == "5f3c-0002")
            try await reopened.setFrameworkID(nil)
            #expect(try await reopened.frameworkID() == nil)
        }
    }

    @Test("A file that is not a SQLite database is an error naming its path and what to do")
    func corruptFileNamesPath() async throws {
        try await withScratchDirectory { dir in
            let path = dir + "/garbage.sqlite"
            try Data(repeating: 0x5a, count: 4096).write(to: URL(fileURLWithPath: path))
            do {
                _ = try HistoryStore(path: path, logger: logger)
                Issue.record("opening a garbage file succeeded")
            } catch let error as CapstanError {
                #expect(error.code == .failedPrecondition)
                #expect(error.message.contains("The reconciler history database \(path) is torn or corrupted"), "\(error)")
                #expect(error.message.contains("Restore it from a backup"), "\(error)")
            }
        }
    }

    @Test("Concurrent writers from many tasks all land")
    func concurrentWrites() async throws {
        let store = try HistoryStore.inMemory(logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask {
                    try await store.record(HistoryEntry(app: "app\(index % 5)", event: .restarted, commit: "c", message: "\(index)"))
                }
            }
            try await group.waitForAll()
        }
        var total = 0
        for app in 0..<5 { total += try await store.history(app: "app\(app)").count }
        #expect(total == 50)
    }
}
