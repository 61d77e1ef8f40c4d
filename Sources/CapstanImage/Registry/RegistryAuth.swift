public import CapstanCore
import Foundation

/// A user name and password for one registry.
public struct RegistryCredentials: Sendable, Hashable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// Parses `USER:PASSWORD`.
    public init(parsing text: String) throws(CapstanError) {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
            throw CapstanError(.invalidArgument, "credentials must be USER:PASSWORD")
        }
        self.init(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
    }

    /// The value of a `Basic` `Authorization` header.
    public var basicHeader: String { "Basic " + Data("\(username):\(password)".utf8).base64EncodedString() }
}

/// Credentials from a Docker-style `config.json` (or containers' `auth.json`): `{"auths": {"HOST": {"auth": base64(user:pass)}}}`.
public struct DockerConfigFile: Sendable {
    struct Contents: Decodable {
        struct Entry: Decodable {
            var auth: String?
            var username: String?
            var password: String?
        }
        var auths: [String: Entry]?
    }

    /// The files searched when no file is named: `$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
    /// `$DOCKER_CONFIG/config.json` and `~/.docker/config.json`.
    public static var defaultPaths: [String] {
        let env = ProcessInfo.processInfo.environment
        var paths: [String] = []
        if let file = env["REGISTRY_AUTH_FILE"] { paths.append(file) }
        if let runtime = env["XDG_RUNTIME_DIR"] { paths.append(runtime + "/containers/auth.json") }
        if let docker = env["DOCKER_CONFIG"] { paths.append(docker + "/config.json") }
        paths.append(NSHomeDirectory() + "/.docker/config.json")
        return paths
    }

    /// The credentials for `host` in the first of `paths` that has them.
    public static func credentials(for host: String, paths: [String] = defaultPaths) throws -> RegistryCredentials? {
        var keys = [host, "https://\(host)", "http://\(host)", "https://\(host)/v2/", "https://\(host)/v1/"]
        if host == "docker.io" { keys += ["https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io"] }
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            let contents = try ImageJSON.decode(Contents.self, from: data, what: "registry credentials file \(path)")
            for key in keys {
                guard let entry = contents.auths?[key] else { continue }
                if let username = entry.username, let password = entry.password {
                    return RegistryCredentials(username: username, password: password)
                }
                if let auth = entry.auth, let decoded = Data(base64Encoded: auth).flatMap({ String(data: $0, encoding: .utf8) }) {
                    return try RegistryCredentials(parsing: decoded)
                }
            }
        }
        return nil
    }
}

/// A parsed `WWW-Authenticate` challenge: `Basic realm="…"` or `Bearer realm="…",service="…",scope="…"`.
public struct AuthChallenge: Sendable, Equatable {
    public var scheme: String
    public var parameters: [String: String]

    /// Parses one challenge; quoted values may hold commas.
    public init?(header: String) {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        let schemeEnd = trimmed.firstIndex(of: " ") ?? trimmed.endIndex
        scheme = trimmed[..<schemeEnd].lowercased()
        guard !scheme.isEmpty else { return nil }
        parameters = [:]
        var rest = trimmed[schemeEnd...].drop(while: { $0 == " " })
        while !rest.isEmpty {
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = rest[..<equals].trimmingCharacters(in: CharacterSet(charactersIn: " ,")).lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                while let c = rest.first, c != "\"" {
                    if c == "\\" { rest = rest.dropFirst() }
                    if let next = rest.first { value.append(next); rest = rest.dropFirst() }
                }
                rest = rest.dropFirst()
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = String(rest[..<end]).trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            rest = rest.drop(while: { $0 == "," || $0 == " " })
            parameters[key] = value
        }
    }
}
