import Foundation

/// A host program run to completion by a test (ip, iptables-save, curl): its standard output, stderr discarded.
public enum HostCommand {
    /// The program's stdout; empty when it cannot be started.
    @discardableResult
    public static func output(_ path: String, _ arguments: [String]) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "" }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

extension HostCommand {
    /// The program's exit status, its output discarded; 127 when it cannot be started.
    public static func status(_ path: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return 127 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// portmap's shared nat chains (the plugin never removes them), for tests that may be the first to create them.
public enum PortmapChains {
    public static func exist() -> Bool {
        HostCommand.output("/usr/sbin/iptables-save", ["-t", "nat"]).contains(":CNI-HOSTPORT-DNAT")
    }

    /// Removes the jumps into the shared chains and the chains themselves (their own rules name no container).
    public static func remove() {
        let iptables = "/usr/sbin/iptables"
        HostCommand.output(iptables, ["-w", "-t", "nat", "-D", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT"])
        HostCommand.output(iptables, ["-w", "-t", "nat", "-D", "OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT"])
        HostCommand.output(iptables, ["-w", "-t", "nat", "-D", "POSTROUTING", "-m", "comment", "--comment", "CNI portfwd requiring masquerade", "-j", "CNI-HOSTPORT-MASQ"])
        for chain in ["CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-MASQ", "CNI-HOSTPORT-SETMARK"] {
            HostCommand.output(iptables, ["-w", "-t", "nat", "-F", chain])
            HostCommand.output(iptables, ["-w", "-t", "nat", "-X", chain])
        }
    }
}
