import ArgumentParser
import Foundation

/// Replays saved inputs in this process: to reproduce a crash `run` reported, or to check a fix.
struct FuzzExec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec", abstract: "Run saved inputs through a target in this process (a crash crashes it).")

    @Option(help: "manifest, json, recordio or layer.") var target: String
    @Argument(help: "Input files.") var inputs: [String]

    func run() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-fuzz-exec-\(getpid())").path
        defer {
            try? FileManager.default.removeItem(atPath: scratch)
            if target == "layer" { try? FileManager.default.removeItem(atPath: LayerFuzzTarget.sentinelDirectory) }
        }
        let fuzzTarget = try FuzzTargets.make(target, scratch: scratch)
        var failed = false
        for path in inputs {
            let input = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            do {
                try fuzzTarget.run(input)
                print("ok \(path)")
            } catch {
                print("finding \(path): \(error.description)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
