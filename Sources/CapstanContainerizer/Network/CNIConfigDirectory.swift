import Foundation
import Glibc

/// The networks of a CNI configuration directory (`.conf`, `.conflist`, `.json`, read in name order): the valid ones
/// by name, and a problem for each file that cannot be used (the others keep working). A second file naming a
/// network already defined is a problem; the first one wins.
public struct CNINetworkSet: Sendable, Hashable {
    public var networks: [String: CNINetworkList] = [:]
    public var problems: [CNIConfigError] = []

    public init(networks: [String: CNINetworkList] = [:], problems: [CNIConfigError] = []) {
        self.networks = networks
        self.problems = problems
    }

    public var names: [String] { networks.keys.sorted() }
}

/// Reads a configuration directory, again whenever it changed (a file added, removed, rewritten or renamed).
public struct CNIConfigDirectory: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    static let extensions = [".conf", ".conflist", ".json"]
    /// Configuration files larger than this are refused (a configuration is a few hundred bytes).
    static let maxFileBytes = 1 << 20

    /// What identifies the directory's current contents: each file's name, size, change time and inode.
    public func signature() -> [String] {
        configFiles().map { name in
            var info = stat()
            guard stat(path + "/" + name, &info) == 0 else { return name }
            return "\(name):\(info.st_size):\(info.st_ctim.tv_sec).\(info.st_ctim.tv_nsec):\(info.st_ino)"
        }
    }

    /// Parses every configuration file.
    public func load() -> CNINetworkSet {
        var set = CNINetworkSet()
        for name in configFiles() {
            let file = path + "/" + name
            let data: Data
            do {
                data = try readFile(file)
            } catch {
                set.problems.append(error)
                continue
            }
            do {
                let list = try CNINetworkList.parse(data, file: file)
                if let first = set.networks[list.name] {
                    set.problems.append(CNIConfigError(file: file, reason: "network '\(list.name)' is already defined by \(first.file)"))
                } else {
                    set.networks[list.name] = list
                }
            } catch {
                set.problems.append(error)
            }
        }
        return set
    }

    private func configFiles() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { name in !name.hasPrefix(".") && Self.extensions.contains { name.hasSuffix($0) } }.sorted()
    }

    private func readFile(_ file: String) throws(CNIConfigError) -> Data {
        let fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { throw CNIConfigError(file: file, reason: "it cannot be opened: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw CNIConfigError(file: file, reason: "it is not a regular file") }
        guard info.st_size <= Self.maxFileBytes else { throw CNIConfigError(file: file, reason: "it is larger than 1 MiB") }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw CNIConfigError(file: file, reason: "it cannot be read: \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<count])
            if data.count > Self.maxFileBytes { throw CNIConfigError(file: file, reason: "it is larger than 1 MiB") }
        }
        return data
    }
}
