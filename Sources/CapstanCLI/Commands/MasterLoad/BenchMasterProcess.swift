import CapstanCore
import Foundation
import Glibc

/// A `capstan master` child process for a benchmark: this binary, on an ephemeral port of 127.0.0.1, with its work
/// directory and log under a scratch directory. Stopped by its PID.
final class BenchMasterProcess: @unchecked Sendable {
    let process: Process
    let logPath: String
    let listenFile: String
    /// Where it listens, once ``waitUntilListening(timeout:)`` returned.
    private(set) var address = HostPort(host: "127.0.0.1", port: 0)

    var pid: Int32 { process.processIdentifier }

    /// Starts `executable master` with `extraArguments` after the fixed ones (listen, listen file, work dir, insecure).
    init(executable: String, scratch: String, extraArguments: [String]) throws {
        logPath = scratch + "/master.log"
        listenFile = scratch + "/master.listen"
        try? FileManager.default.removeItem(atPath: listenFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.currentDirectoryURL = URL(fileURLWithPath: scratch)
        process.arguments = [
            "master", "--listen", "127.0.0.1:0", "--listen-file", listenFile, "--work-dir", scratch + "/master",
            // Loopback only, no agents: nothing to authenticate against.
            "--insecure",
        ] + extraArguments
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw CapstanError(.internal, "cannot start \(executable) master", cause: error)
        }
        self.process = process
    }

    /// Waits for the listen file the master writes once it serves.
    func waitUntilListening(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                throw CapstanError(.unavailable, "capstan master exited with status \(process.terminationStatus) before it listened; its log:\n\(logTail)")
            }
            if let text = try? String(contentsOfFile: listenFile, encoding: .utf8), text.hasSuffix("\n"),
                let address = try? HostPort.parse(text)
            {
                self.address = address
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw CapstanError(.timeout, "capstan master (pid \(pid)) did not write \(listenFile) within \(timeout); its log:\n\(logTail)")
    }

    /// SIGTERM, then SIGKILL after `grace`; returns the exit status (128 + N for signal N).
    @discardableResult
    func stop(grace: Duration = .seconds(15)) async -> Int32 {
        if process.isRunning {
            kill(pid, SIGTERM)
            let deadline = ContinuousClock.now + grace
            while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            if process.isRunning {
                kill(pid, SIGKILL)
                process.waitUntilExit()
            }
        }
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// SIGKILL at once and reap it, for an exit path with no time for a graceful stop (a signal to the benchmark).
    func killNow() {
        guard process.isRunning else { return }
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }

    /// The last 3,000 characters of the master's output.
    var logTail: String { String(((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").suffix(3000)) }
}
