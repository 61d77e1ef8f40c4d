import AsyncHTTPClient
import CapstanCore
import Foundation
import Glibc
import NIOCore
import NIOHTTP1

/// HTTP and TCP probes from the agent's own network namespace (tasks on the host's network).
extension HealthProbe {
    /// `GET <scheme>://127.0.0.1:<port><path>` following redirects (as `curl -L` does for Mesos), on a fresh
    /// connection that is closed afterwards; the body is read and dropped.
    static func getHTTP(scheme: String, port: Int, path: String, statuses: [UInt32], timeout: Duration) async -> HealthProbeResult {
        let url = "\(scheme)://127.0.0.1:\(port)\(path)"
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        request.headers.add(name: "Connection", value: "close")
        request.headers.add(name: "User-Agent", value: "capstan-health-check")
        do {
            let deadline = NIODeadline.now() + .nanoseconds(Int64(timeout.seconds * 1e9))
            let response = try await HTTPClient.shared.execute(request, deadline: deadline)
            for try await _ in response.body {}
            let code = UInt32(response.status.code)
            let accepted = statuses.isEmpty ? (200..<400).contains(code) : statuses.contains(code)
            return accepted
                ? .healthy("GET \(url) answered \(code)")
                : .failed("GET \(url) answered \(code), expected \(statuses.isEmpty ? "200-399" : statuses.map(String.init).joined(separator: ", "))")
        } catch {
            return .failed("GET \(url) failed: \(error)")
        }
    }

    /// Opens (then closes) a TCP connection to `127.0.0.1:<port>`. The non-blocking connect is polled in short
    /// slices so the probe stays cancellable and never blocks a thread of the cooperative pool.
    static func connectTCP(port: Int, timeout: Duration) async -> HealthProbeResult {
        let target = "127.0.0.1:\(port)"
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failed("TCP connection to \(target) failed: socket: \(errnoText(errno))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc == 0 { return .healthy("TCP connection to \(target) succeeded") }
        guard errno == EINPROGRESS else { return .failed("TCP connection to \(target) failed: \(errnoText(errno))") }
        let deadline = ContinuousClock.now + timeout
        while true {
            var pollFD = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&pollFD, 1, 0)
            if ready > 0 {
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                return error == 0
                    ? .healthy("TCP connection to \(target) succeeded")
                    : .failed("TCP connection to \(target) failed: \(errnoText(error))")
            }
            if ready < 0 && errno != EINTR { return .failed("TCP connection to \(target) failed: poll: \(errnoText(errno))") }
            if ContinuousClock.now >= deadline { return .failed("TCP connection to \(target) timed out after \(timeout)") }
            do { try await Task.sleep(for: .milliseconds(20)) } catch { return .failed("TCP health check cancelled") }
        }
    }

    static func errnoText(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}
