import Foundation
import Glibc

/// The host's `iptables` (or `ip6tables`) and its `-save`, run as programs (no shell, ``HostProgram``) with `-w` so a
/// concurrent firewall change waits instead of failing. Blocking: call on the blocking pool.
struct IptablesTool: Sendable {
    let program: String
    let save: String

    /// The IPv4 and IPv6 tools that exist, from the usual sbin directories.
    static func installed() -> [IptablesTool] {
        ["iptables", "ip6tables"].compactMap { name in
            for directory in ["/usr/sbin", "/sbin", "/usr/bin"] {
                let program = directory + "/" + name, save = directory + "/" + name + "-save"
                if access(program, X_OK) == 0, access(save, X_OK) == 0 { return IptablesTool(program: program, save: save) }
            }
            return nil
        }
    }

    /// `iptables-save -t table`; nil when it fails (the table's module is not loaded, for example).
    func dump(table: String) -> String? {
        let (status, output, _) = Self.execute(save, ["-t", table])
        return status == 0 ? output : nil
    }

    /// Runs `iptables -w arguments…`; the error text when it fails.
    func run(_ arguments: [String]) -> String? {
        let (status, _, errors) = Self.execute(program, ["-w"] + arguments)
        return status == 0 ? nil : "\(program) \(arguments.joined(separator: " ")) exited with status \(status): \(errors)"
    }

    /// How long one call may take: `-w` waits for the xtables lock, which another program may hold for a while.
    static let timeout = Duration.seconds(60)

    private static func execute(_ path: String, _ arguments: [String]) -> (Int32, String, String) {
        guard let outcome = try? HostProgram.run(path, arguments: arguments, timeout: timeout) else { return (-1, "", "cannot be started") }
        return (
            outcome.signaled ? -1 : outcome.status, String(decoding: outcome.stdout, as: UTF8.self),
            String(decoding: outcome.stderr.prefix(2000), as: UTF8.self)
        )
    }
}
