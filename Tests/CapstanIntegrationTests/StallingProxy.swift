import Foundation
import CapstanTestSupport
import Glibc

/// A TCP proxy on 127.0.0.1 in front of a registry that holds every blob download (`GET …/blobs/…`) until
/// ``release()``, as a registry stalling mid-pull would. Each connection is forwarded by two threads of its own (blocking
/// sockets, off the cooperative pool); ``stop()`` closes everything.
final class StallingProxy: @unchecked Sendable {
    let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let lock = NSCondition()
    private var released = false
    private var stopped = false
    private var stalled = 0
    private var sockets: [Int32] = []

    var host: String { "127.0.0.1:\(port)" }

    /// Blob downloads held so far.
    var stalledDownloads: Int { lock.withLock { stalled } }

    init(upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw TestFailure("socket() failed: errno \(errno)") }
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else {
            close(listener)
            throw TestFailure("bind/listen on 127.0.0.1:0 failed: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Lets every held download (and every later one) through.
    func release() {
        lock.withLock {
            released = true
            lock.broadcast()
        }
    }

    /// Closes the listener and every connection.
    func stop() {
        let all = lock.withLock {
            stopped = true
            released = true
            lock.broadcast()
            return sockets
        }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for fd in all { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            let open = lock.withLock {
                if !stopped { sockets += [client, upstream] }
                return !stopped
            }
            guard connected == 0, open else {
                close(client)
                close(upstream)
                continue
            }
            let pair = Pair(client: client, upstream: upstream)
            Thread.detachNewThread { [self] in forward(from: client, to: upstream, holdBlobs: true, pair: pair) }
            Thread.detachNewThread { [self] in forward(from: upstream, to: client, holdBlobs: false, pair: pair) }
        }
    }

    /// Copies bytes until either side closes; with `holdBlobs`, a chunk that starts a blob GET waits for ``release()``.
    /// One proxied connection; its sockets are closed once both directions have ended.
    private final class Pair: @unchecked Sendable {
        let client: Int32
        let upstream: Int32
        var ended = 0
        init(client: Int32, upstream: Int32) {
            self.client = client
            self.upstream = upstream
        }
    }

    private func forward(from source: Int32, to destination: Int32, holdBlobs: Bool, pair: Pair) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            if holdBlobs, let text = String(bytes: buffer[0..<min(count, 512)], encoding: .utf8), text.hasPrefix("GET "),
                text.prefix(while: { $0 != "\r" }).contains("/blobs/")
            {
                lock.withLock {
                    if !released { stalled += 1 }
                    while !released { lock.wait() }
                }
            }
            var sent = 0
            while sent < count {
                let written = buffer.withUnsafeBytes { write(destination, $0.baseAddress! + sent, count - sent) }
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { break }
                sent += written
            }
            if sent < count { break }
        }
        lock.withLock {
            // Ends the other direction too; the sockets stay open (so their numbers are not reused) until both ended.
            shutdown(pair.client, Int32(SHUT_RDWR))
            shutdown(pair.upstream, Int32(SHUT_RDWR))
            pair.ended += 1
            guard pair.ended == 2 else { return }
            sockets.removeAll { $0 == pair.client || $0 == pair.upstream }
            close(pair.client)
            close(pair.upstream)
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
