import Foundation

/// host-local's lease files for one network: a file per address, holding the container ID and (since plugins 0.8)
/// `\r\n` and the interface name.
struct CNILeaseDirectory {
    struct Lease: Sendable, Hashable {
        var address: String
        var containerID: String
        var interface: String
    }

    let path: String

    func leases() -> [Lease] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().compactMap { name in
            // Address files only: not `lock` nor `last_reserved_ip.N`.
            guard name.contains(where: { $0 == "." || $0 == ":" }), !name.hasPrefix("last_reserved_ip"),
                let data = FileManager.default.contents(atPath: path + "/" + name), data.count < 4096
            else { return nil }
            let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)  // "\r\n" is one Character
            guard let id = lines.first, !id.isEmpty else { return nil }
            return Lease(address: name, containerID: id, interface: lines.count > 1 ? lines[1] : "eth0")
        }
    }
}
