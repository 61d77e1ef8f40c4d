import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

/// Prerequisites, commands and local ports for the transport tests.
enum GitTestSupport {
    /// Where git keeps its helpers (git-daemon), searched besides PATH.
    static let gitCore = ["/usr/lib/git-core"]

    /// Runs a command to completion in `directory`, its output going to a file (never a pipe, which a
    /// child forked meanwhile by another test could hold open), and returns that output.
    @discardableResult
    static func run(_ arguments: [String], in directory: String, environment: [String: String] = [:]) async throws -> String {
        let outputPath = directory + "/run-\(UUID().uuidString.prefix(8)).out"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Prerequisites.path(of: arguments[0], alsoIn: gitCore))
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
/// file, in a process group of its own, stopped by its PID.
///
/// Spawned with posix_spawn rather than Foundation's `Process`: Process notices a child's exit when
/// the child closes a socket it inherited, then blocks in `waitpid` — and daemons such as sshd close
/// every inherited descriptor at start, which would stall every other `Process` of the test run.
final class ServerProcess: @unchecked Sendable {
    let pid: pid_t
    let logPath: String
    private var exited = false

    init(_ arguments: [String], logPath: String, environment: [String: String] = [:]) throws {
        self.logPath = logPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        Self.closeFrom(3, &actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGCHLD, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw CapstanError(.internal, "cannot start \(arguments[0]): \(String(cString: strerror(result)))")
        }
        self.pid = pid
    }

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34+), which Swift's Glibc module does not show.
    private static func closeFrom(_ fd: Int32, _ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return }
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, fd)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Whether the server has not exited (reaps it when it has).
    var isRunning: Bool {
        guard !exited else { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid || (result < 0 && errno == ECHILD) { exited = true }
        return !exited
    }

    /// Waits (bounded) until the server itself listens on `port` (the kernel says so, so another process holding
    /// the port does not count): true, or false after stopping it when it exited first (the port was taken) or did
    /// not listen in time.
    func listens(on port: Int, timeout: Duration = .seconds(15)) async -> Bool {
        let listening = await GitTestSupport.waitUntil(timeout: timeout) { ListeningPorts.of(pid: pid).contains(port) || !isRunning }
        if listening && isRunning && ListeningPorts.of(pid: pid).contains(port) { return true }
        stop()
        return false
    }

    /// Waits (bounded) until `ready` holds; throws with the server's log when it exits or times out first.
    func waitUntilReady(timeout: Duration = .seconds(15), _ ready: () -> Bool) async throws {
        let ok = await GitTestSupport.waitUntil(timeout: timeout) { ready() || !isRunning }
        guard ok, isRunning, ready() else {
            throw CapstanError(.timeout, "server \(pid) did not become ready: \(log)")
        }
    }

    /// SIGTERM to its process group (the server and what it forked), up to two seconds to exit, then
    /// SIGKILL; synchronous and bounded so that `defer` can call it.
    func stop() {
        guard isRunning else {
            kill(-pid, SIGKILL)  // children a dead server left behind
            return
        }
        kill(-pid, SIGTERM)
        for _ in 0..<40 where isRunning { usleep(50_000) }
        kill(-pid, SIGKILL)
        for _ in 0..<40 where isRunning { usleep(50_000) }
    }
}
