import CapstanLinux
import Dispatch
import Foundation
import Glibc

/// One call of a CNI plugin: the spec's environment and its stdin.
public struct CNIPluginCall: Sendable {
    public var command: String
    public var containerID: String = ""
    public var netns: String = ""
    public var interface: String = ""
    /// `CNI_ARGS`: `KEY=value` pairs.
    public var args: [(String, String)] = []
    public var stdin: Data

    public init(command: String, containerID: String = "", netns: String = "", interface: String = "", args: [(String, String)] = [], stdin: Data) {
        self.command = command
        self.containerID = containerID
        self.netns = netns
        self.interface = interface
        self.args = args
        self.stdin = stdin
    }
}

/// A plugin that failed: its CNI error (`code`, `msg`, `details`), or how it died.
public struct CNIPluginError: Error, Sendable, CustomStringConvertible {
    public var plugin: String
    public var network: String
    public var command: String
    public var code: Int?
    public var message: String

    public var description: String {
        "CNI plugin '\(plugin)' failed \(command) for network '\(network)': \(message)\(code.map { " (CNI error code \($0))" } ?? "")"
    }
}

/// Finds and runs CNI plugins (executables named by a configuration's `type`) as the spec prescribes: environment
/// `CNI_*`, the configuration on stdin, the result or an error object on stdout. Runs them on the blocking pool, each
/// with a deadline.
public struct CNIPluginRunner: Sendable {
    /// Where plugins are looked for, in order (also `CNI_PATH`, for plugins that call others such as IPAM).
    public var pluginDirectories: [String]
    /// How long one call may take before the plugin is killed.
    public var timeout: Duration

    public init(pluginDirectories: [String], timeout: Duration = .seconds(60)) {
        self.pluginDirectories = pluginDirectories
        self.timeout = timeout
    }

    /// The executable for `type`: the first regular, executable file of that name in the plugin directories.
    public func locate(_ type: String) -> String? {
        guard CNINetworkList.isPlainFileName(type) else { return nil }
        for directory in pluginDirectories {
            let path = directory + "/" + type
            var info = stat()
            if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(path, X_OK) == 0 { return path }
        }
        return nil
    }

    /// Runs plugin `type` for `network`; returns its stdout.
    /// - Throws: ``CNIPluginError`` with the plugin's own error message when it fails.
    public func run(_ type: String, network: String, _ call: CNIPluginCall) async throws(CNIPluginError) -> Data {
        guard let path = locate(type) else {
            throw CNIPluginError(
                plugin: type, network: network, command: call.command,
                message: "no executable '\(type)' in the plugin directories \(pluginDirectories.joined(separator: ", "))")
        }
        let environment = environment(for: call)
        let timeout = self.timeout
        let outcome: Result<Data, CNIPluginError>
        do {
            outcome = try await Blocking.run {
                Self.execute(path: path, type: type, network: network, command: call.command, environment: environment, stdin: call.stdin, timeout: timeout)
            }
        } catch {
            throw CNIPluginError(plugin: type, network: network, command: call.command, message: "it could not be run: \(error)")
        }
        return try outcome.get()
    }

    func environment(for call: CNIPluginCall) -> [String: String] {
        var environment = [
            "CNI_COMMAND": call.command,
            "CNI_PATH": pluginDirectories.joined(separator: ":"),
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ]
        if !call.containerID.isEmpty { environment["CNI_CONTAINERID"] = call.containerID }
        if !call.netns.isEmpty { environment["CNI_NETNS"] = call.netns }
        if !call.interface.isEmpty { environment["CNI_IFNAME"] = call.interface }
        if !call.args.isEmpty { environment["CNI_ARGS"] = call.args.map { "\($0.0)=\($0.1)" }.joined(separator: ";") }
        return environment
    }

    /// Blocking: runs the plugin (killed at the deadline) and reads its result or CNI error.
    private static func execute(
        path: String, type: String, network: String, command: String, environment: [String: String], stdin: Data, timeout: Duration
    ) -> Result<Data, CNIPluginError> {
        func failure(_ message: String, code: Int? = nil) -> Result<Data, CNIPluginError> {
            .failure(CNIPluginError(plugin: type, network: network, command: command, code: code, message: message))
        }
        let outcome: HostProgram.Outcome
        do {
            outcome = try HostProgram.run(path, environment: environment, stdin: stdin, timeout: timeout)
        } catch {
            return failure("it could not be started: \(error)")
        }
        let (status, stdout) = (outcome.status, outcome.stdout)
        if outcome.signaled {
            return failure(status == SIGKILL ? "it did not finish within \(timeout) and was killed" : "it was killed by signal \(status)")
        }
        guard status == 0 else {
            if let error = try? JSONValue.parse(stdout), let message = error["msg"]?.stringValue {
                let details = error["details"]?.stringValue.map { ": \($0)" } ?? ""
                return failure(message + details, code: error["code"]?.numberValue.map { Int($0) })
            }
            let text = String(decoding: outcome.stderr.prefix(2000), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return failure("it exited with status \(status)\(text.isEmpty ? "" : ": \(text)")")
        }
        return .success(stdout)
    }
}
