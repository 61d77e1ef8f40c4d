public import CapstanCore
import Foundation
import Glibc

/// The OCI runtime state a CDI hook reads on its stdin.
public struct CDIHookState: Sendable, Equatable, Codable {
    public var ociVersion: String
    /// The container ID.
    public var id: String
    /// `created` for the hooks run before the task executes, `stopped` for `poststop`.
    public var status: String
    /// The container's PID 1 (host pid); absent when unknown (a `poststop` after an agent restart).
    public var pid: Int32?
    /// The container's sandbox directory: Capstan makes no OCI bundle, so no `config.json` is there.
    public var bundle: String

    public init(id: String, status: String, pid: Int32?, bundle: String, ociVersion: String = "1.0.2") {
        self.ociVersion = ociVersion
        self.id = id
        self.status = status
        self.pid = pid
        self.bundle = bundle
    }

    /// The state as compact JSON with sorted keys.
    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data("{}".utf8)
    }
}

/// Runs CDI hooks on the host, as an OCI runtime runs its hooks in the runtime namespace.
///
/// Semantics (see ``CDIDeviceIsolator`` for when each stage runs): the hook's `path` is executed with its `args`
/// after the first (argv[0] is the path itself: Foundation's `Process` cannot set another) and exactly its `env` as
/// environment; its stdin is an unlinked file holding the ``CDIHookState`` JSON (a file rather than a pipe, so that a
/// hook that never reads it cannot SIGPIPE the agent); its working directory is `/`. A hook with a `timeout` is killed (SIGKILL) once that many seconds have passed; one without is given
/// ``defaultTimeout``. A hook that cannot be started, exits non-zero, is killed by a signal or times out is a
/// failure naming its path and stage (and its stderr, cut short).
public enum CDIHookRunner {
    /// The time a hook without a `timeout` is given before it is killed: an agent must not hang on a hook forever.
    public static let defaultTimeout: Duration = .seconds(60)

    /// Runs `hook` (blocking: call it off the cooperative pool).
    /// - Throws: `unavailable` when it cannot be started or fails; `timeout` when it is killed at its timeout.
    public static func run(_ hook: CDIHook, state: CDIHookState) throws {
        let timeout = hook.timeout ?? defaultTimeout
        var environment: [String: String] = [:]
        for entry in hook.env {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            environment[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        let started = ContinuousClock.now
        let outcome: HostProgram.Outcome
        do {
            // The state goes through an unlinked file, not a pipe: a hook that never reads it must not SIGPIPE the agent.
            let stdin = try stateFile(state)
            defer { try? stdin.close() }
            outcome = try HostProgram.run(
                hook.path, arguments: Array(hook.args.dropFirst()), environment: environment, stdinFile: stdin, timeout: timeout)
        } catch {
            throw CapstanError(.unavailable, "CDI \(hook.stage.rawValue) hook \(hook.path) could not be started: \(error)")
        }
        if outcome.signaled && outcome.status == SIGKILL && ContinuousClock.now - started >= timeout {
            throw CapstanError(
                .timeout, "CDI \(hook.stage.rawValue) hook \(hook.path) timed out after \(timeout.components.seconds)s and was killed")
        }
        guard outcome.signaled || outcome.status != 0 else { return }
        let stderr = String(decoding: outcome.stderr.prefix(512), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let how = outcome.signaled ? "was killed by signal \(outcome.status)" : "exited with status \(outcome.status)"
        throw CapstanError(
            .unavailable, "CDI \(hook.stage.rawValue) hook \(hook.path) \(how)\(stderr.isEmpty ? "" : ": \(stderr)")")
    }

    /// The state's JSON in an anonymous file (created, written, rewound, unlinked), open for reading.
    private static func stateFile(_ state: CDIHookState) throws -> FileHandle {
        var template = Array((NSTemporaryDirectory() + "/capstan-cdi-hook-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw CapstanError(.unavailable, "cannot create the CDI hook's state file: \(String(cString: strerror(errno)))")
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        unlink(String(cString: template))
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        try handle.write(contentsOf: state.json())
        try handle.seek(toOffset: 0)
        return handle
    }
}
