import CapstanCore
import Foundation
import Glibc

/// Where Docker plugins are looked for, as Docker itself looks (`pkg/plugins` discovery): a socket
/// `<sockets>/<name>.sock` or `<sockets>/<name>/<name>.sock`; otherwise, in each spec directory in order,
/// `<name>.spec`, `<name>/<name>.spec`, `<name>.json`, `<name>/<name>.json`.
public struct DockerPluginDirectories: Sendable, Hashable {
    /// The socket directory (`/run/docker/plugins`).
    public var sockets: String
    /// The spec directories, searched in order (`/etc/docker/plugins`, `/usr/lib/docker/plugins`).
    public var specs: [String]

    public init(sockets: String, specs: [String]) {
        self.sockets = sockets
        self.specs = specs
    }

    /// The host's directories.
    public static let standard = DockerPluginDirectories.under("/")

    /// The standard directories beneath `root` (tests use a scratch directory).
    public static func under(_ root: String) -> DockerPluginDirectories {
        let base = root.hasSuffix("/") ? String(root.dropLast()) : root
        return DockerPluginDirectories(
            sockets: base + "/run/docker/plugins", specs: [base + "/etc/docker/plugins", base + "/usr/lib/docker/plugins"])
    }

    /// The largest `.spec` or `.json` file read.
    static let maxSpecBytes = 64 << 10

    /// Finds the plugin `name`: its address, or nil when no socket or spec file of that name exists. Throws when a
    /// spec file exists but is unreadable or names an address Capstan refuses (TLS, a non-loopback host). Blocking:
    /// call it through `Blocking.run`.
    public func locate(_ name: DockerPluginName) throws(CapstanError) -> DockerPluginAddress? {
        for candidate in [sockets + "/\(name).sock", sockets + "/\(name)/\(name).sock"] where Self.isSocket(candidate) {
            return try .unix(candidate, source: "plugin '\(name)'")
        }
        for directory in specs {
            for candidate in [directory + "/\(name).spec", directory + "/\(name)/\(name).spec"] where Self.isRegularFile(candidate) {
                return try .parse(String(decoding: try Self.read(candidate), as: UTF8.self), source: candidate)
            }
            for candidate in [directory + "/\(name).json", directory + "/\(name)/\(name).json"] where Self.isRegularFile(candidate) {
                return try Self.parseJSON(try Self.read(candidate), source: candidate)
            }
        }
        return nil
    }

    /// Every place `locate` looks, for a "not found" message.
    public func searchedPaths(for name: DockerPluginName) -> [String] {
        var paths = [sockets + "/\(name).sock", sockets + "/\(name)/\(name).sock"]
        for directory in specs {
            paths += ["spec", "json"].flatMap { ext in [directory + "/\(name).\(ext)", directory + "/\(name)/\(name).\(ext)"] }
        }
        return paths
    }

    /// A `.json` spec: `{"Name": …, "Addr": …, "TLSConfig": …}`. A TLS configuration is refused, not ignored.
    static func parseJSON(_ data: Data, source: String) throws(CapstanError) -> DockerPluginAddress {
        struct Spec: Decodable {
            var Addr: String?
        }
        let object: [String: Any]
        let spec: Spec
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw CapstanError(.invalidArgument, "\(source) is not a JSON object")
            }
            object = parsed
            spec = try JSONDecoder().decode(Spec.self, from: data)
        } catch let error as CapstanError {
            throw error
        } catch {
            throw CapstanError(
                .invalidArgument, "\(source) is not a Docker plugin spec ({\"Name\", \"Addr\", \"TLSConfig\"})", cause: error)
        }
        if let tls = object["TLSConfig"], !(tls is NSNull) {
            throw CapstanError(
                .unsupported, "\(source) asks for TLS (TLSConfig), which Capstan does not support for Docker plugins yet; use a unix socket"
            )
        }
        guard let address = spec.Addr, !address.isEmpty else {
            throw CapstanError(.invalidArgument, "\(source) has no \"Addr\"")
        }
        return try .parse(address, source: source)
    }

    private static func isSocket(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK
    }

    private static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    private static func read(_ path: String) throws(CapstanError) -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CapstanError(.permissionDenied, "cannot read the Docker plugin spec \(path)")
        }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.read(upToCount: maxSpecBytes + 1) ?? Data() } catch {
            throw CapstanError(.internal, "cannot read the Docker plugin spec \(path)", cause: error)
        }
        guard data.count <= maxSpecBytes else {
            throw CapstanError(.invalidArgument, "the Docker plugin spec \(path) is larger than \(maxSpecBytes) bytes")
        }
        return data
    }
}
