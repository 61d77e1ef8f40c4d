import Foundation

/// The `capstan` binary built by `swift build`, found next to the test bundle or through `CAPSTAN_BINARY`.
public enum CapstanBinary {
    public static var path: String {
        if let explicit = ProcessInfo.processInfo.environment["CAPSTAN_BINARY"] { return explicit }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("capstan").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        // Fall back to the package's debug build.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/capstan").path
    }
}

/// One running `capstan` process (master, agent or up), with its output in a log file. Stopped by PID.
public final class CapstanProcess: @unchecked Sendable {
    public let process: Process
    public let logPath: String
    public let arguments: [String]

    /// Starts the binary (`executable`, default ``CapstanBinary/path``) with `arguments`, its output going to
    /// `logPath`, in `currentDirectory` (default: the test's), with `environment` (default: the test's).
    public init(
        arguments: [String], logPath: String, currentDirectory: String? = nil, executable: String? = nil,
        environment: [String: String]? = nil
    ) throws {
        self.arguments = arguments
        self.logPath = logPath
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable ?? CapstanBinary.path)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Sends `signal` and waits up to `timeout` for the process to exit; SIGKILL after that.
    public func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(10)) async {
        guard process.isRunning else { return }
        kill(pid, signal)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Kills the process with SIGKILL at once, as a crash would.
    public func crash() {
        guard process.isRunning else { return }
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }

    /// The process's output so far.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}
