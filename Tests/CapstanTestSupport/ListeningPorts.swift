import Foundation
import Glibc

/// The TCP ports a process listens on, as the kernel reports them (`/proc/PID/fd` sockets matched against
/// `/proc/PID/net/tcp{,6}` entries in state LISTEN): the answer for an external daemon that binds a port but cannot
/// report it, and the proof that a port a daemon was told to take is its own and not another process's.
public enum ListeningPorts {
    public static func of(pid: Int32) -> Set<Int> {
        let fdDirectory = "/proc/\(pid)/fd"
        var inodes: Set<String> = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: fdDirectory)) ?? [] {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: fdDirectory + "/" + name),
                target.hasPrefix("socket:["), target.hasSuffix("]")
            else { continue }
            inodes.insert(String(target.dropFirst("socket:[".count).dropLast()))
        }
        var ports: Set<Int> = []
        for table in ["tcp", "tcp6"] {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/net/\(table)", encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                guard fields.count > 9, fields[3] == "0A", inodes.contains(String(fields[9])),
                    let colon = fields[1].lastIndex(of: ":"), let port = Int(fields[1][fields[1].index(after: colon)...], radix: 16)
                else { continue }
                ports.insert(port)
            }
        }
        return ports
    }
}

/// Starts an external daemon on a port picked for it (one that cannot listen on port 0 and report the port),
/// trying again on another port when the pick collided: the daemon exited, or the port is not its own.
public enum PickedPort {
    /// Calls `start` with a port from `ports` (a free one by default) up to `attempts` times; `start` returns the
    /// started value once it listens on that port, or nil when the daemon could not take it (it has cleaned up after
    /// itself then).
    public static func retrying<T>(
        attempts: Int = 5, ports: () -> Int = FreePort.next, _ start: (Int) async throws -> T?
    ) async throws -> T {
        var tried: [Int] = []
        for _ in 0..<attempts {
            let port = ports()
            tried.append(port)
            if let started = try await start(port) { return started }
        }
        throw TestFailure("No daemon could be started on any of the ports tried: \(tried)")
    }
}
