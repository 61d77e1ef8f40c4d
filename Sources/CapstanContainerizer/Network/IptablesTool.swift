import Foundation
import Glibc

/// The host's `iptables` (or `ip6tables`) and its `-save`, run as programs (no shell) with `-w` so a concurrent
/// firewall change waits instead of failing. Blocking: call on the blocking pool.
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

    private static func execute(_ path: String, _ arguments: [String]) -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return (-1, "", "\(error)") }
        // Small outputs: read stderr after stdout reaches its end (the tool closes both as it exits).
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr.prefix(2000), as: UTF8.self))
    }
}
