import CapstanReconciler
import Foundation
import Logging
import Testing

extension HistoryStoreTests {
    @Test("Suspended apps and pins are kept across a reopen; resuming and unpinning remove them")
    func controlsPersist() async throws {
        try await withScratchDirectory { dir in
            let path = dir + "/history.sqlite"
            let pin = AppPin(app: "web", commit: String(repeating: "a", count: 40), baseCommit: String(repeating: "b", count: 40), time: t0)
            do {
                let store = try HistoryStore(path: path, logger: logger)
                try await store.setSuspended(app: "web", true)
                try await store.setSuspended(app: "api", true)
                try await store.setSuspended(app: "api", false)
                try await store.setPin(pin)
            }
            let reopened = try HistoryStore(path: path, logger: logger)
            #expect(try await reopened.suspendedApps() == ["web"])
            #expect(try await reopened.pins() == ["web": pin])
            #expect(try await reopened.removePin(app: "web"))
            #expect(try await !reopened.removePin(app: "web"))
            #expect(try await reopened.pins().isEmpty)
        }
    }
}
