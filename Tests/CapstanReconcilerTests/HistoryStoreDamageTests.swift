import CapstanCore
import CapstanReconciler
import Foundation
import Logging
import Testing

/// A history database that is torn or corrupted is refused with its path and what to do: read as empty, the
/// reconciler would lose its framework ID and register as a new framework (docs/crash-safety.md). A file that is not
/// a database at all: `HistoryStoreTests.corruptFileNamesPath`.
@Suite("HistoryStore damage")
struct HistoryStoreDamageTests {
    let logger = Logger(label: "capstan.test.history")

    @Test func aDatabaseTornAfterItsFirstPageIsRefusedWithItsPath() async throws {
        try await withScratchDirectory { dir in
            let path = dir + "/history.sqlite"
            do {
                let store = try HistoryStore(path: path, logger: logger)
                for index in 0..<300 {
                    try await store.record(
                        HistoryEntry(
                            app: "app-\(index % 7)", event: .created, commit: "aaaaaaaaaaaa", message: String(repeating: "m", count: 100),
                            time: Date()))
                }
            }
            let whole = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(whole.count > 3 * 4096)
            try whole.prefix(4096).write(to: URL(fileURLWithPath: path))
            do {
                let store = try HistoryStore(path: path, logger: logger)
                for index in 0..<7 { _ = try await store.history(app: "app-\(index)") }
                Issue.record("a torn history database was read")
            } catch let error as CapstanError {
                #expect(error.message.contains("The reconciler history database \(path) is torn or corrupted"), "\(error)")
            }
        }
    }
}
