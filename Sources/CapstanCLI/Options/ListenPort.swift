import CapstanCore
import Foundation
import Glibc

/// Checks before a server starts that its listen address can be bound, so that a port that is taken reads "the
/// reconciler cannot listen on 127.0.0.1:5052: address in use; pass --reconciler-listen …" instead of the socket
/// library's text after start-up. (A port taken between the check and the bind still fails there.)
enum ListenPort {
    /// Which server a listen flag belongs to.
    static func component(command: String, flag: String) -> String {
        switch (command, flag) {
        case (_, "--agent-listen"), ("agent", _): return "the agent"
        case (_, "--reconciler-listen"), ("reconcile", _): return "the reconciler"
        default: return "the master"
        }
    }

    /// Binds and closes a socket on `address` (with SO_REUSEADDR, as the server does); throws a sentence naming the
    /// component, the address, the reason and the flag when that fails. Port 0 and names that do not resolve are left
    /// to the server.
    static func ensureFree(_ address: HostPort, component: String, flag: String) throws {
        guard address.port > 0 else { return }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(address.host, String(address.port), &hints, &list) == 0, let first = list else { return }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 else { return }
        let code = errno
        let reason: String
        switch code {
        case EADDRINUSE: reason = "address in use (another process listens there)"
        case EADDRNOTAVAIL: reason = "no interface of this machine has that address"
        case EACCES: reason = "permission denied (ports below 1024 need root)"
        default: reason = String(cString: strerror(code))
        }
        throw CapstanError(
            .unavailable, "\(component) cannot listen on \(address): \(reason); pass \(flag) with another address (port 0 picks a free one)")
    }
}
