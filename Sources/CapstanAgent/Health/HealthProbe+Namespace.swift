import CapstanContainerizer
import CapstanCore
import Foundation
import Logging

/// HTTP and TCP probes of a task in a network namespace of its own, where the agent's 127.0.0.1 cannot reach it.
///
/// The multi-threaded agent never calls `setns` itself: the probe is a short-lived process, util-linux's `nsenter
/// --net=/proc/<pid>/ns/net` (Debian's util-linux is always installed), which enters only the task's network
/// namespace and then runs a host program, as Mesos' checker does: `curl` for HTTP (Mesos' exact flags; without curl
/// the check fails, as in Mesos) and bash's `/dev/tcp` for TCP (Mesos 1.0's TCP check). The task's mount namespace
/// is not entered, so nothing from the container's filesystem is executed.
extension HealthProbe {
    /// Where `nsenter` and the probe programs are looked up.
    static let hostPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Runs this HTTP or TCP probe as a host program inside the network namespace of process `pid` (the agent's own
    /// namespace when `nil`), against `address` (a task on CNI networks: its own IP there). `scratch` is an existing
    /// private directory for the probe's output; it is left empty.
    func runInNetworkNamespace(
        of pid: Int32?, address: String = "127.0.0.1", scratch: String, timeout: Duration, logger: Logger
    ) async -> HealthProbeResult {
        let host = address.contains(":") ? "[\(address)]" : address
        let enter = pid.map { ["nsenter", "--net=/proc/\($0)/ns/net", "--"] } ?? []
        let arguments: [String]
        let target: String
        switch self {
        case .http(let scheme, let port, let path, _):
            target = "GET \(scheme)://\(host):\(port)\(path)"
            arguments = enter + [
                "curl", "-s", "-S", "-L", "-k", "--proto", "=http,https", "--proto-redir", "=http,https", "-w", "%{http_code}",
                "-o", "/dev/null", "\(scheme)://\(host):\(port)\(path)",
            ]
        case .tcp(let port):
            target = "TCP connection to \(host):\(port)"
            arguments = enter + ["bash", "-c", "exec 3<>\"/dev/tcp/$1/$2\"", "tcp-health-check", address, String(port)]
        case .command:
            return .failed("A COMMAND check does not run in a network namespace")
        }
        let command = CommandSpec(shell: false, value: arguments[0], arguments: arguments, environment: ["PATH": Self.hostPath])
        let place = pid == nil ? "" : " in the task's network namespace"
        let outcome = await Self.runProcess(command, directory: scratch, timeout: timeout, logger: logger)
        let stdout = (try? String(contentsOfFile: scratch + "/stdout", encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: scratch + "/stderr", encoding: .utf8)) ?? ""
        for name in ["stdout", "stderr"] { try? FileManager.default.removeItem(atPath: scratch + "/" + name) }
        let detail = stderr.trimmingCharacters(in: .whitespacesAndNewlines).suffix(300)
        switch outcome {
        case .timedOut:
            return .failed("\(target)\(place) did not finish within \(timeout)")
        case .failedToStart(let message):
            return .failed("\(target)\(place) could not start: \(message)")
        case .exited(let termination) where termination.exitStatus != 0:
            return .failed("\(target)\(place) failed: \(termination.message)\(detail.isEmpty ? "" : ": \(detail)")")
        case .exited:
            guard case .http(_, _, _, let statuses) = self else { return .healthy("\(target)\(place) succeeded") }
            guard let code = UInt32(stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                return .failed("\(target)\(place): unexpected curl output '\(stdout.prefix(100))'")
            }
            let accepted = statuses.isEmpty ? (200..<400).contains(code) : statuses.contains(code)
            return accepted
                ? .healthy("\(target)\(place) answered \(code)")
                : .failed("\(target)\(place) answered \(code)")
        }
    }
}
