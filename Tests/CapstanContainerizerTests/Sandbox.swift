import CapstanContainerizer
import CapstanCore
import Foundation
import Glibc
import Logging

/// A scratch sandbox under /tmp, removed when the test ends, pass or fail.
struct Sandbox {
    let path: String

    static func with<T>(_ body: (Sandbox) async throws -> T) async throws -> T {
        let path = "/tmp/capstan-ctr-test-\(UUID().uuidString.prefix(12))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(Sandbox(path: path))
    }

    /// A shell-command configuration with a fresh container ID.
    func config(_ shell: String, environment: [String: String] = ["PATH": "/usr/bin:/bin"], user: String? = nil) -> ContainerConfig {
        ContainerConfig(
            containerID: ContainerID("c-\(UUID().uuidString.prefix(8))"),
            command: CommandSpec(shell: true, value: shell, environment: environment, user: user),
            sandboxDirectory: path)
    }

    /// A program configuration with a fresh container ID.
    func config(program: String, arguments: [String], environment: [String: String] = ["PATH": "/usr/bin:/bin"]) -> ContainerConfig {
        ContainerConfig(
            containerID: ContainerID("c-\(UUID().uuidString.prefix(8))"),
            command: CommandSpec(shell: false, value: program, arguments: arguments, environment: environment),
            sandboxDirectory: path)
    }

    func read(_ name: String) -> String {
        (try? String(contentsOfFile: "\(path)/\(name)", encoding: .utf8)) ?? ""
    }

    func exists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: "\(path)/\(name)")
    }

    /// Waits until the task has created `name` (and written a full line, for pid files).
    func waitFor(_ name: String, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !(exists(name) && (!name.hasSuffix(".pid") || read(name).hasSuffix("\n"))) {
            guard ContinuousClock.now < deadline else { throw TestFailure("the task never created \(name)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The pid a task wrote into `name`.
    func pid(_ name: String) -> Int32? {
        Int32(read(name).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A logger that drops everything, to keep test output readable.
let quietLogger = Logger(label: "capstan.agent.containerizer.test", factory: { _ in SwiftLogNoOpLogHandler() })

func makeContainerizer(isolators: [any Isolator] = []) -> Containerizer {
    Containerizer(launcher: PosixLauncher(logger: quietLogger), isolators: isolators, logger: quietLogger)
}

/// Whether `pid` has ended: gone from /proc, or a zombie waiting for a reaper that is not us.
func isGone(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return true }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state == "Z" || state == "X"
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(5), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !(await condition()) {
        guard ContinuousClock.now < deadline else { return false }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return true
}

/// Runs `body`, failing if it takes longer than `timeout` (so a broken wait fails instead of hanging the suite).
func within<T: Sendable>(_ timeout: Duration = .seconds(30), _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw TestFailure("timed out after \(timeout)")
        }
        group.cancelAll()
        return value
    }
}
