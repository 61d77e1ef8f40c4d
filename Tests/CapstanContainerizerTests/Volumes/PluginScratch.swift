import CapstanContainerizer
import CapstanTestSupport
import Foundation

/// A scratch root for plugin directories and journals, short enough for unix socket paths, removed afterwards.
struct PluginScratch {
    let root: String
    var directories: DockerPluginDirectories { .under(root) }
    var sockets: String { root + "/run/docker/plugins" }
    var specs: String { root + "/etc/docker/plugins" }
    var journal: String { root + "/work/volumes/docker" }

    static func with<T>(_ body: (PluginScratch) async throws -> T) async throws -> T {
        let root = "/tmp/cdv-\(UUID().uuidString.prefix(8))"
        let scratch = PluginScratch(root: root)
        for directory in [scratch.sockets, scratch.specs, root + "/usr/lib/docker/plugins", root + "/state"] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        defer { try? FileManager.default.removeItem(atPath: root) }
        return try await body(scratch)
    }

    /// A plugin's state directory.
    func state(_ name: String) -> String { root + "/state/" + name }

    /// Writes a file (creating its directory).
    func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
