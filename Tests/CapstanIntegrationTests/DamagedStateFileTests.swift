import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// What a user sees when a state file that a restart reads back is torn or corrupted: the daemon does not start,
    /// and says which file and what to do (docs/crash-safety.md). The agent's task checkpoints are covered by
    /// AgentRecoveryTests; these are the other stores.
    @Suite("Damaged state files")
    struct DamagedStateFileTests {
        static func withScratch(_ body: (String) async throws -> Void) async throws {
            let path = NSTemporaryDirectory() + "capstan-damaged-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: path) }
            try await body(path)
        }

        /// Runs `capstan arguments…` until it exits (30 s at most) and returns its status and output.
        static func refusal(_ arguments: [String], log: String) async throws -> (status: Int32, output: String) {
            let process = try CapstanProcess(arguments: arguments, logPath: log)
            do { try await eventually("capstan \(arguments[0]) exits", timeout: .seconds(30)) { !process.isRunning } } catch {
                await process.stop()  // it started on the damaged file: the test fails, and leaves nothing running
                throw error
            }
            return (process.process.terminationStatus, process.log)
        }

        @Test("capstan master refuses a registry.sqlite that is not a database, naming it")
        func masterRefusesADamagedRegistry() async throws {
            try await Self.withScratch { scratch in
                let path = scratch + "/master/registry.sqlite"
                try FileManager.default.createDirectory(atPath: scratch + "/master", withIntermediateDirectories: true)
                try Data(repeating: 0x5A, count: 4096).write(to: URL(fileURLWithPath: path))
                let (status, output) = try await Self.refusal(
                    ["master", "--insecure", "--work-dir", scratch + "/master", "--listen", "127.0.0.1:0"], log: scratch + "/master.log")
                #expect(status != 0)
                #expect(output.contains("The master's registry database \(path) is torn or corrupted"), "\(output.suffix(2000))")
            }
        }

        @Test("capstan agent refuses a torn executor-token key instead of making a new one, naming it")
        func agentRefusesATornExecutorTokenKey() async throws {
            try await Self.withScratch { scratch in
                let path = scratch + "/agent/meta/executor-token.key"
                try FileManager.default.createDirectory(atPath: scratch + "/agent/meta", withIntermediateDirectories: true)
                try Data(repeating: 7, count: 11).write(to: URL(fileURLWithPath: path))
                let (status, output) = try await Self.refusal(
                    ["agent", "--insecure", "--work-dir", scratch + "/agent", "--master", "127.0.0.1:1", "--listen", "127.0.0.1:0"],
                    log: scratch + "/agent.log")
                #expect(status != 0)
                #expect(output.contains("Executor token key \(path) is 11 bytes, not 32"), "\(output.suffix(2000))")
                #expect(FileManager.default.contents(atPath: path) == Data(repeating: 7, count: 11), "the torn key is left as it was")
            }
        }

        @Test("capstan reconcile refuses a history.sqlite that is not a database, naming it")
        func reconcilerRefusesADamagedHistory() async throws {
            try await Self.withScratch { scratch in
                let path = scratch + "/reconciler/history.sqlite"
                try FileManager.default.createDirectory(atPath: scratch + "/reconciler", withIntermediateDirectories: true)
                try Data(repeating: 0x5A, count: 4096).write(to: URL(fileURLWithPath: path))
                let (status, output) = try await Self.refusal(
                    [
                        "reconcile", "--work-dir", scratch + "/reconciler", "--master", "127.0.0.1:1", "--repo", scratch + "/no-repo",
                        "--listen", "127.0.0.1:0",
                    ], log: scratch + "/reconciler.log")
                #expect(status != 0)
                #expect(output.contains("The reconciler history database \(path) is torn or corrupted"), "\(output.suffix(2000))")
            }
        }
    }
}
