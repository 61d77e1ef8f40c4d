import CapstanCore
import CapstanReconciler
import CapstanTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// What a finished `capstan` run printed and returned.
struct CommandRun {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the `capstan` binary to completion, polling (not blocking a cooperative thread) so the in-process server
/// it talks to keeps answering.
func runCapstan(_ arguments: [String]) async throws -> CommandRun {
    let binary = CapstanBinary.path
    guard FileManager.default.isExecutableFile(atPath: binary) else {
        throw CapstanError(.notFound, "No capstan binary at \(binary): run `swift build` first or set CAPSTAN_BINARY")
    }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("stdout"), err = dir.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = ContinuousClock.now + .seconds(60)
    while process.isRunning {
        if ContinuousClock.now > deadline {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("capstan \(arguments.joined(separator: " ")) did not finish in 60 s")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    return CommandRun(
        status: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
        stderr: try String(contentsOf: err, encoding: .utf8))
}

/// `capstan status` and `capstan history` (the binary) against an in-test master + reconciler API; the real
/// reconciler daemon end to end is the reconcile suite's job.
@Suite("StatusCommand")
struct StatusCommandTests {
    @Test("capstan status finds the reconciler through --master, prints the table and exits 3 when not Synced")
    func statusNotSynced() async throws {
        try await liveReconciler(status: .sample, store: try HistoryStore.inMemory()).test(.live) { client in
            let port = try #require(client.port)
            let run = try await runCapstan(["status", "--master", "127.0.0.1:\(port)"])
            #expect(run.status == 3, "stderr: \(run.stderr)")
            #expect(run.stdout == ReconcilerStatus.sample.renderTable())
        }
    }

    @Test("capstan status --reconciler URL --output json prints the document and exits 0 when converged")
    func statusJSONConverged() async throws {
        var synced = ReconcilerStatus.sample
        synced.error = nil
        synced.diagnostics = []
        synced.apps = synced.apps.map { var app = $0; app.phase = .synced; app.reason = nil; return app }
        let expected = synced
        try await liveReconciler(status: synced, store: try HistoryStore.inMemory(), registerFramework: false).test(.live) { client in
            let port = try #require(client.port)
            let run = try await runCapstan(["status", "--reconciler", "http://127.0.0.1:\(port)", "--output", "json"])
            #expect(run.status == 0, "stderr: \(run.stderr)")
            #expect(try ReconcilerJSON.decode(ReconcilerStatus.self, from: Data(run.stdout.utf8)) == expected)
        }
    }

    @Test("capstan status exits 1 with a clear message when no reconciler is registered or the master is down")
    func statusErrors() async throws {
        try await liveReconciler(status: .sample, store: try HistoryStore.inMemory(), registerFramework: false).test(.live) { client in
            let port = try #require(client.port)
            let run = try await runCapstan(["status", "--master", "127.0.0.1:\(port)"])
            #expect(run.status == 1)
            #expect(run.stderr.contains("No framework named 'capstan-reconciler' is registered with the master at 127.0.0.1:\(port)"))
        }
        let closed = ClosedPort()
        let down = closed.port
        defer { withExtendedLifetime(closed) {} }
        let run = try await runCapstan(["status", "--master", "127.0.0.1:\(down)", "--timeout", "1s"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("Cannot reach the master at 127.0.0.1:\(down)"))
    }

    @Test("capstan history APP prints the entries newest first; --output json; --limit is checked")
    func history() async throws {
        let store = try HistoryStore.inMemory()
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        try await store.record(HistoryEntry(app: "web", event: .created, commit: "aaaaaaaaaaaa", specLabel: "0123456789abcdef", message: "created 3 instances", time: t0))
        try await store.record(HistoryEntry(app: "web", event: .converged, commit: "aaaaaaaaaaaa", specLabel: "0123456789abcdef", message: "3/3 healthy", time: t0 + 30))
        try await liveReconciler(status: .sample, store: store).test(.live) { client in
            let port = try #require(client.port)
            let run = try await runCapstan(["history", "web", "--master", "127.0.0.1:\(port)"])
            #expect(run.status == 0, "stderr: \(run.stderr)")
            #expect(run.stdout == """
                TIME                  EVENT      COMMIT        SPEC              MESSAGE
                2026-09-21T14:13:50Z  converged  aaaaaaaaaaaa  0123456789abcdef  3/3 healthy
                2026-09-21T14:13:20Z  created    aaaaaaaaaaaa  0123456789abcdef  created 3 instances

                """)
            let json = try await runCapstan(["history", "web", "--reconciler", "127.0.0.1:\(port)", "--limit", "1", "--output", "json"])
            let page = try ReconcilerJSON.decode(HistoryPage.self, from: Data(json.stdout.utf8))
            #expect(page.entries.map(\.event) == [.converged])
            let none = try await runCapstan(["history", "db", "--reconciler", "127.0.0.1:\(port)"])
            #expect(none.stdout == "no history for app 'db'\n")
            let bad = try await runCapstan(["history", "web", "--limit", "0"])
            #expect(bad.status != 0 && bad.stderr.contains("--limit"))
        }
    }
}
