import CapstanCore
import Foundation

/// `--listen-file`: a `capstan` server started with `--listen 127.0.0.1:0` writes the address it bound there once it
/// serves, so tests never pick a port and race another test for it.
public enum ListenFile {
    /// A fresh listen-file path under `directory` (a restarted server must not find its predecessor's file).
    public static func path(in directory: String, name: String) -> String {
        directory + "/\(name)-\(UUID().uuidString.prefix(8)).listen"
    }

    /// Waits until `process` has written `path` and returns the address in it. Fails at once, with the process's log,
    /// when the process exits first, and after `timeout` (generous: a debug build on a loaded machine is slow to start).
    public static func address(at path: String, of process: CapstanProcess, timeout: Duration = .seconds(60)) async throws -> HostPort {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), text.hasSuffix("\n") {
                return try HostPort.parse(text)
            }
            guard process.isRunning else {
                throw TestFailure("\(process.arguments.first ?? "capstan") exited before writing \(path):\n\(process.log.suffix(4000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("Timed out after \(timeout) waiting for \(path):\n\(process.log.suffix(4000))")
    }
}
