import ArgumentParser
import CapstanCore
import Crypto
import Foundation

/// Fuzzes one target for a while: starts a worker process, and when it dies (a crash) or stops moving (a
/// hang), saves the input it was running and starts a new worker with the next seed. Prints one summary
/// line; exits 1 when anything was found.
struct FuzzRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Fuzz a target in a supervised worker process; exit 1 on any crash or hang.")

    @Option(help: "manifest, json, recordio or layer.") var target: String
    @Option(help: "How long to fuzz, in seconds.") var seconds: Double = 10
    @Option(help: "The first worker's seed; each worker started after a finding adds 1.") var seed: UInt64 = 1
    @Option(help: "The directory of seed inputs (Tests/Fuzz/corpus/<target>).") var corpus: String
    @Option(help: "Where inputs that crash or hang are saved.") var findings = ".build/fuzz-findings"
    @Option(help: "Seconds one input may run before it counts as a hang.") var timeout: Double = 10

    func validate() throws {
        guard FuzzTargets.names.contains(target) || target == "canary" else {
            throw ValidationError("unknown target '\(target)' (expected one of: \(FuzzTargets.names.joined(separator: ", ")))")
        }
        guard seconds > 0, timeout > 0 else { throw ValidationError("--seconds and --timeout must be positive") }
    }

    func run() throws {
        let corpusSize = try FuzzCorpus.load(corpus).count
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-fuzz-\(target)-\(getpid())").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")

        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + .milliseconds(Int(seconds * 1000))
        var executions = 0
        var crashes = 0
        var hangs = 0
        var workers = 0
        while clock.now < deadline {
            let current = scratch + "/current"
            let status = scratch + "/status"
            try? FileManager.default.removeItem(atPath: current)
            try? FileManager.default.removeItem(atPath: status)
            let remaining = Double((deadline - clock.now).components.seconds) + Double((deadline - clock.now).components.attoseconds) / 1e18
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = [
                "worker", "--target", target, "--seed", "\(seed &+ UInt64(workers))", "--seconds", "\(remaining)",
                "--corpus", corpus, "--current", current, "--status", status, "--scratch", scratch + "/worker-\(workers)",
            ] + (workers == 0 ? ["--corpus-first"] : [])
            var environment = ProcessInfo.processInfo.environment
            environment["SWIFT_BACKTRACE"] = "enable=no"  // a crash ends the worker at once; `exec` replays it
            process.environment = environment
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            workers += 1
            let workerStarted = Date()
            var hung = false
            while process.isRunning {
                usleep(50_000)
                // A worker is timed from its first input on: starting it (spawn, corpus load) on a loaded machine
                // can take longer than one input may, and is not a hang of the target.
                let lastInput = Self.modificationDate(current)
                let limit = lastInput == nil ? max(timeout, Self.startupAllowance) : timeout
                if Date().timeIntervalSince(max(workerStarted, lastInput ?? workerStarted)) > limit, process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    hung = true
                    break
                }
            }
            process.waitUntilExit()
            executions += Self.count(status)
            let reason: String
            if hung {
                hangs += 1
                reason = "hang: one input ran over \(timeout) s"
            } else if process.terminationReason == .uncaughtSignal {
                crashes += 1
                reason = "crash: signal \(process.terminationStatus)"
            } else if process.terminationStatus != 0 {
                crashes += 1
                executions += 1
                reason = process.terminationStatus == 3 ? "finding: an invariant broke" : "crash: exit status \(process.terminationStatus)"
            } else {
                continue
            }
            let saved = try save(current, kind: hung ? "hang" : "crash")
            print("capstan-fuzz run: \(target): \(reason); input saved to \(saved); replay: capstan-fuzz exec --target \(target) \(saved)")
        }
        if target == "layer" { try? FileManager.default.removeItem(atPath: LayerFuzzTarget.sentinelDirectory) }
        let elapsed = Double((clock.now - started).components.seconds) + Double((clock.now - started).components.attoseconds) / 1e18
        print(
            "capstan-fuzz run: target=\(target) seed=\(seed) seconds=\(String(format: "%.1f", elapsed)) executions=\(executions) "
                + "crashes=\(crashes) hangs=\(hangs) inputs/s=\(Int(Double(executions) / max(elapsed, 0.001))) corpus=\(corpusSize)")
        if crashes + hangs > 0 { throw ExitCode(1) }
    }

    /// Copies the input a worker was running into the findings directory, named by its SHA-256.
    private func save(_ current: String, kind: String) throws -> String {
        let input = (try? Data(contentsOf: URL(fileURLWithPath: current))) ?? Data()
        let digest = Hex.encode(SHA256.hash(data: input)).prefix(16)
        try FileManager.default.createDirectory(atPath: findings, withIntermediateDirectories: true)
        let path = findings + "/\(kind)-\(target)-\(digest)"
        try input.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// How long a worker may take to start before its first input.
    static let startupAllowance: TimeInterval = 30

    private static func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    private static func count(_ status: String) -> Int {
        guard let text = try? String(contentsOfFile: status, encoding: .utf8) else { return 0 }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }
}
