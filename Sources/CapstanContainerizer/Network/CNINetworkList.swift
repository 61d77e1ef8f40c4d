import CapstanCore
import Foundation

/// A CNI network configuration as read from the config directory: a `.conflist` (a chain of plugins) or a `.conf`/
/// `.json` holding one plugin, which is treated as a chain of one.
public struct CNINetworkList: Sendable, Hashable {
    /// The network's name: how tasks ask for it, and part of the journal's paths.
    public var name: String
    /// `cniVersion`, and the versions of `cniVersions` (spec 1.1): the candidates for negotiation.
    public var versions: [CNIVersion]
    /// Each plugin's configuration object, in chain order (without the list's `name` and `cniVersion`).
    public var plugins: [[String: JSONValue]]
    /// The file it came from.
    public var file: String

    /// Each plugin's `type`: the name of its executable.
    public var pluginTypes: [String] { plugins.map { $0["type"]?.stringValue ?? "" } }

    /// Parses a configuration file's bytes.
    /// - Throws: ``CNIConfigError`` naming the file and what is wrong.
    public static func parse(_ data: Data, file: String) throws(CNIConfigError) -> CNINetworkList {
        let document: JSONValue
        do { document = try JSONValue.parse(data) } catch { throw CNIConfigError(file: file, reason: "it is not valid JSON (\(error))") }
        guard let top = document.objectValue else { throw CNIConfigError(file: file, reason: "it is not a JSON object") }
        guard let name = top["name"]?.stringValue, !name.isEmpty else { throw CNIConfigError(file: file, reason: "'name' is missing") }
        guard Self.isValidName(name) else {
            throw CNIConfigError(
                file: file, reason: "'name' \"\(name)\" may hold only letters, digits, '_', '.' and '-', and must start with a letter or digit")
        }
        guard let declared = top["cniVersion"]?.stringValue else { throw CNIConfigError(file: file, reason: "'cniVersion' is missing") }
        guard let version = CNIVersion(declared) else { throw CNIConfigError(file: file, reason: "'cniVersion' \"\(declared)\" is not a version") }
        var versions = [version]
        for (index, value) in (top["cniVersions"]?.arrayValue ?? []).enumerated() {
            guard let text = value.stringValue, let extra = CNIVersion(text) else {
                throw CNIConfigError(file: file, reason: "'cniVersions[\(index)]' is not a version")
            }
            if !versions.contains(extra) { versions.append(extra) }
        }
        var plugins: [[String: JSONValue]]
        if let list = top["plugins"] {
            guard let array = list.arrayValue, !array.isEmpty else { throw CNIConfigError(file: file, reason: "'plugins' must be a non-empty list") }
            plugins = []
            for (index, plugin) in array.enumerated() {
                guard let object = plugin.objectValue else { throw CNIConfigError(file: file, reason: "'plugins[\(index)]' is not an object") }
                plugins.append(object)
            }
        } else {
            var single = top
            for key in ["name", "cniVersion", "cniVersions", "disableCheck", "disableGC"] { single.removeValue(forKey: key) }
            plugins = [single]
        }
        for (index, plugin) in plugins.enumerated() {
            let field = top["plugins"] == nil ? "type" : "plugins[\(index)].type"
            guard let type = plugin["type"]?.stringValue, !type.isEmpty else { throw CNIConfigError(file: file, reason: "'\(field)' is missing") }
            guard Self.isPlainFileName(type) else {
                throw CNIConfigError(file: file, reason: "'\(field)' \"\(type)\" is not a plugin name (a file name in the plugin directories)")
            }
            if plugin["args"]?["org.apache.mesos"] != nil {
                throw CNIConfigError(file: file, reason: "'args.org.apache.mesos' is set by the agent and may not be in a configuration")
            }
        }
        return CNINetworkList(name: name, versions: versions, plugins: plugins, file: file)
    }

    /// CNI's rule for network names, which also keeps them safe as one path component: the manifests' rule
    /// (``NetworkSpec/isValidName(_:)``), so that a name a manifest accepts is one an agent accepts.
    public static func isValidName(_ name: String) -> Bool { NetworkSpec.isValidName(name) }

    static func isPlainFileName(_ name: String) -> Bool {
        name != "." && name != ".." && name.utf8.count <= 255
            && name.unicodeScalars.allSatisfy { isASCIIAlphanumeric($0) || $0 == "_" || $0 == "." || $0 == "-" }
    }

    private static func isASCIIAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    /// The list as one conflist document at `version`: what the journal keeps, so that DEL uses exactly what ADD used.
    public func document(version: CNIVersion) -> JSONValue {
        .object(["name": .string(name), "cniVersion": .string(version.description), "plugins": .array(plugins.map(JSONValue.object))])
    }

    /// Reads a list back from ``document(version:)``.
    public static func fromDocument(_ document: JSONValue, file: String) throws(CNIConfigError) -> (CNINetworkList, CNIVersion) {
        let list = try parse(document.encoded(), file: file)
        return (list, list.versions[0])
    }
}

/// A network configuration that cannot be used, naming the file and why.
public struct CNIConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var reason: String
    public var description: String { "CNI network configuration \(file) is invalid: \(reason)" }
}
