import CapstanCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection driven byte by byte, for clients that misbehave on purpose: half-sent requests, streams
/// that are never read. Optionally bound to a source address (any of 127.0.0.0/8 is loopback) and with a small
/// receive buffer set before connecting.
public final class RawConnection: @unchecked Sendable {
    public private(set) var fd: Int32

    public init(to endpoint: HostPort, from source: String? = nil, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        if let source {
            var local = try Self.address(source, port: 0)
            let rc = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard rc == 0 else { defer { close() }; throw TestFailure("bind \(source): \(String(cString: strerror(errno)))") }
        }
        var remote = try Self.address(endpoint.host, port: endpoint.port)
        let rc = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { defer { close() }; throw TestFailure("connect \(endpoint): \(String(cString: strerror(errno)))") }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { close() }

    private static func address(_ host: String, port: Int) throws -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw TestFailure("not an IPv4 address: \(host)") }
        return address
    }

    /// Sends all of `text` (the socket is non-blocking: waits briefly while the send buffer is full).
    public func send(_ text: String) throws {
        var bytes = Array(text.utf8)[...]
        let deadline = ContinuousClock.now + .seconds(5)
        while !bytes.isEmpty {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent > 0 {
                bytes = bytes.dropFirst(sent)
            } else if errno == EAGAIN, ContinuousClock.now < deadline {
                usleep(1000)
            } else {
                throw TestFailure("send: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Reads what has arrived without waiting; nil once the peer closed the connection (or reset it) and nothing
    /// is left to read.
    public func readAvailable() -> [UInt8]? {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                result += buffer[0..<count]
            } else if count < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                return result
            } else {
                return result.isEmpty ? nil : result
            }
        }
    }

    /// True once the peer closed the connection, reading (and dropping) whatever it had sent, within `timeout`.
    public func closedByPeer(within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            if readAvailable() == nil { return true }
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}

/// What /proc says about a process: resident memory and open file descriptors.
public enum ProcessStats {
    /// VmRSS in KiB.
    public static func residentKiB(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }

    /// The number of open file descriptors.
    public static func openFiles(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }
}
