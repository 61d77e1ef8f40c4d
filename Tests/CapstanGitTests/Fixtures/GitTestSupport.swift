import CapstanCore
import Foundation
import Testing

/// Prerequisites, commands and local ports for the transport tests.
enum GitTestSupport {
    static let strict = ProcessInfo.processInfo.environment["CAPSTAN_TEST_STRICT"] == "1"

    /// The absolute path of `name` on PATH (or /usr/sbin, /usr/lib/git-core), if installed.
    static func which(_ name: String) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/sbin:/sbin:/usr/bin:/bin:/usr/lib/git-core"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Enabled when every binary is installed, and always under CAPSTAN_TEST_STRICT=1 (the test then fails).
    static func requires(_ binaries: String...) -> ConditionTrait {
        let missing = binaries.filter { which($0) == nil }
        if !missing.isEmpty && !strict {
            print("SKIPPED: git transport test needs \(missing.joined(separator: ", ")) (scripts/install-deps.sh installs them)")
        }
        return .enabled(if: strict || missing.isEmpty, "needs \(binaries.joined(separator: ", ")) (scripts/install-deps.sh)")
    }

    /// The absolute path of `binary`; fails the test when it is missing (reached only under CAPSTAN_TEST_STRICT=1).
    static func require(_ binary: String) throws -> String {
        guard let path = which(binary) else {
            throw CapstanError(.failedPrecondition, "\(binary) is not installed and CAPSTAN_TEST_STRICT=1 forbids skipping")
        }
        return path
    }

    /// Runs a command to completion in `directory`, its output going to a file (never a pipe, which a
    /// child forked meanwhile by another test could hold open), and returns that output.
    @discardableResult
    static func run(_ arguments: [String], in directory: String, environment: [String: String] = [:]) async throws -> String {
        let outputPath = directory + "/run-\(UUID().uuidString.prefix(8)).out"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try require(arguments[0]))
        process.arguments = Array(arguments.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        try output.close()
        let text = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: outputPath))) ?? Data(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw CapstanError(.internal, "\(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(text)")
        }
        return text
    }

    /// A TCP port on 127.0.0.1 that is free right now. (CapstanTestSupport's FreePort does the same;
    /// this test target does not depend on it.)
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0, "socket() failed: errno \(errno)")
        defer { close(fd) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        precondition(bound == 0, "bind() failed: errno \(errno)")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// Polls `condition` every 50 ms until it holds or `timeout` passes.
    static func waitUntil(timeout: Duration, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }
}

/// A server process a test started (git daemon, sshd, the HTTPS git server), its output in a log
/// file, stopped by its PID.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let logPath: String

    init(_ arguments: [String], logPath: String, environment: [String: String] = [:]) throws {
        self.logPath = logPath
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? log.close() }
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits (bounded) until `ready` holds; throws with the server's log when it exits or times out first.
    func waitUntilReady(timeout: Duration = .seconds(15), _ ready: () -> Bool) async throws {
        let ok = await GitTestSupport.waitUntil(timeout: timeout) { ready() || !process.isRunning }
        guard ok, process.isRunning, ready() else {
            throw CapstanError(.timeout, "\(process.executableURL?.lastPathComponent ?? "server") did not become ready: \(log)")
        }
    }

    /// SIGTERM, up to two seconds to exit, then SIGKILL; synchronous so that `defer` can call it.
    func stop() {
        let pid = process.processIdentifier
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        for _ in 0..<40 where process.isRunning { usleep(50_000) }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }
}
