import Foundation
import Glibc

/// Why a TCP connection to `host:port` fails, in the words a user acts on ("connection refused", "no answer within
/// 3s", "cannot resolve HOST"): the HTTP client retries refused connections until its deadline and then reports only
/// that, so the CLI asks once more itself.
public enum ConnectionProbe {
    public static func reason(_ address: String, timeout: Int32 = 3_000) async -> String {
        await Task.detached { probe(address, timeout: timeout) }.value
    }

    public static func probe(_ address: String, timeout: Int32) -> String {
        guard let colon = address.lastIndex(of: ":") else { return "not a HOST:PORT address" }
        let host = String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let port = String(address[address.index(after: colon)...])
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, port, &hints, &list) == 0, let first = list else { return "cannot resolve \(host)" }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue), first.pointee.ai_protocol)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        if connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 { return "it accepts connections but does not answer" }
        guard errno == EINPROGRESS else { return describe(errno) }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&poller, 1, timeout) == 1 else { return "no answer within \(timeout / 1_000)s" }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error == 0 ? "it accepts connections but does not answer" : describe(error)
    }

    static func describe(_ code: Int32) -> String {
        switch code {
        case ECONNREFUSED: "connection refused"
        case EHOSTUNREACH, ENETUNREACH: "no route to host"
        case ETIMEDOUT: "connection timed out"
        default: String(cString: strerror(code)).lowercased()
        }
    }
}
