import CapstanLinux
import Foundation

/// A networked container's `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf`: localhost and the container's name on
/// its first address, and the DNS servers the plugins returned (the host's resolv.conf when they returned none).
struct ContainerNetworkFiles: Sendable {
    var hostname: String
    var results: [CNIResult]

    var hosts: String {
        var lines = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"]
        if let address = results.lazy.flatMap(\.ipAddresses).first { lines.append("\(address) \(hostname)") }
        return lines.joined(separator: "\n") + "\n"
    }

    func resolvConf(host: String?) -> String {
        let nameservers = results.flatMap(\.nameservers)
        guard !nameservers.isEmpty else { return host ?? "" }
        var lines = nameservers.map { "nameserver \($0)" }
        let search = results.flatMap(\.search) + results.compactMap(\.domain)
        if !search.isEmpty { lines.append("search " + search.joined(separator: " ")) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Rewrites the files in place (they are bind-mounted into the container already, so their inodes must stay).
    func write(into directory: String) throws {
        let host = try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)
        for (name, text) in [("hosts", hosts), ("hostname", hostname + "\n"), ("resolv.conf", resolvConf(host: host))] {
            let path = directory + "/" + name
            guard let handle = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
            defer { try? handle.close() }
            try handle.truncate(atOffset: 0)
            try handle.write(contentsOf: Data(text.utf8))
        }
    }
}
