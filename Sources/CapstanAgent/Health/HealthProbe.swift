import CapstanAPI
import CapstanCore

/// What one health check of a task does, read from Mesos' `HealthCheck`: an HTTP GET or a TCP connect to
/// `127.0.0.1:<port>`, or a command whose exit status 0 means healthy.
enum HealthProbe: Sendable, Hashable {
    /// `GET <scheme>://127.0.0.1:<port><path>`; healthy when the final status (after redirects) is in `statuses`,
    /// or in 200–399 when `statuses` is empty.
    case http(scheme: String, port: Int, path: String, statuses: [UInt32])
    /// A TCP connection to `127.0.0.1:<port>` can be opened.
    case tcp(port: Int)
    /// The command exits with status 0.
    case command(CommandInfo)

    /// Reads and validates a health check as Mesos' checker does. Without a `type` (Mesos 0.x), the type is the one
    /// whose field is set (`command`, then `http`, then `tcp`).
    /// - Throws: `invalidArgument` naming what is wrong with the check.
    init(_ check: HealthCheck) throws(CapstanError) {
        let kind: HealthCheck.Kind
        switch check.type {
        case .some(.unknown), .none:
            if check.command != nil {
                kind = .command
            } else if check.http != nil {
                kind = .http
            } else if check.tcp != nil {
                kind = .tcp
            } else {
                throw CapstanError(.invalidArgument, "The health check names no 'type' and has no 'command', 'http' or 'tcp'")
            }
        case .some(let given):
            kind = given
        }
        switch kind {
        case .http:
            guard let http = check.http else {
                throw CapstanError(.invalidArgument, "The HTTP health check has no 'http' field")
            }
            let scheme = http.scheme ?? "http"
            guard scheme == "http" || scheme == "https" else {
                throw CapstanError(.invalidArgument, "The HTTP health check's scheme '\(scheme)' is neither 'http' nor 'https'")
            }
            let path = http.path ?? ""
            guard path.isEmpty || path.hasPrefix("/") else {
                throw CapstanError(.invalidArgument, "The HTTP health check's path '\(path)' does not start with '/'")
            }
            self = .http(scheme: scheme, port: try Self.port(http.port, "HTTP"), path: path, statuses: http.statuses)
        case .tcp:
            guard let tcp = check.tcp else {
                throw CapstanError(.invalidArgument, "The TCP health check has no 'tcp' field")
            }
            self = .tcp(port: try Self.port(tcp.port, "TCP"))
        case .command:
            guard let command = check.command else {
                throw CapstanError(.invalidArgument, "The COMMAND health check has no 'command' field")
            }
            guard let value = command.value, !value.isEmpty else {
                let what = command.runsInShell ? "shell command" : "executable path"
                throw CapstanError(.invalidArgument, "The COMMAND health check's command has no \(what) in 'value'")
            }
            self = .command(command)
        case .unknown:
            throw CapstanError(.invalidArgument, "The health check's type is UNKNOWN")
        }
    }

    private static func port(_ port: UInt32, _ kind: String) throws(CapstanError) -> Int {
        guard (1...65535).contains(port) else {
            throw CapstanError(.invalidArgument, "The \(kind) health check's port \(port) is not between 1 and 65535")
        }
        return Int(port)
    }

    /// HTTP and TCP probes go to 127.0.0.1 of the task's network namespace.
    var isNetworkProbe: Bool {
        if case .command = self { return false }
        return true
    }
}

extension HealthPolicy.Settings {
    /// The timing of a wire health check, with Mesos' defaults for what it leaves out.
    init(_ check: HealthCheck) {
        self.init(
            delaySeconds: check.delaySeconds, intervalSeconds: check.intervalSeconds, timeoutSeconds: check.timeoutSeconds,
            consecutiveFailures: check.consecutiveFailures, gracePeriodSeconds: check.gracePeriodSeconds)
    }
}

/// The outcome of one probe: healthy or not, and a sentence for logs and status messages.
struct HealthProbeResult: Sendable, Hashable {
    var healthy: Bool
    var message: String

    static func healthy(_ message: String) -> HealthProbeResult { HealthProbeResult(healthy: true, message: message) }
    static func failed(_ message: String) -> HealthProbeResult { HealthProbeResult(healthy: false, message: message) }
}
