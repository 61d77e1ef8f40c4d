import Foundation
import Glibc

/// A TCP port on 127.0.0.1 that nothing listens on for as long as this value lives: a socket is bound to it (the
/// kernel picks the port) but never listens, so connections are refused and no other test can take the port. For
/// tests of "nothing answers there"; servers tests start listen on port 0 and report the port they bound instead.
public final class ClosedPort: @unchecked Sendable {
    public let port: Int
    private let fd: Int32

    public init() {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0, "socket() failed: errno \(errno)")
        port = LoopbackSocket.bindEphemeral(fd)
    }

    deinit { close(fd) }
}

/// A TCP listener on 127.0.0.1 (a port the kernel picks) that accepts nothing, for as long as this value lives: the
/// stand-in for another process holding a port a fixture was about to use.
public final class ListeningSocket: @unchecked Sendable {
    public let port: Int
    private let fd: Int32

    public init() {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0, "socket() failed: errno \(errno)")
        port = LoopbackSocket.bindEphemeral(fd)
        precondition(listen(fd, 1) == 0, "listen() failed: errno \(errno)")
    }

    deinit { close(fd) }
}
