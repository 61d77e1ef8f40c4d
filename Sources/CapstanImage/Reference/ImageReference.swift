public import CapstanCore

/// Where an image comes from: a registry, an OCI image layout (directory or tar), or a `docker save` archive.
///
/// Accepted forms: `docker://HOST[:PORT]/REPO[:TAG|@sha256:…]`, Docker Hub short names (`busybox`,
/// `library/busybox:1`, with or without `docker://`), `oci:PATH[:TAG]`, `oci-archive:PATH[:TAG]` and
/// `docker-archive:PATH[:NAME:TAG]`.
public enum ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// An image in a registry.
    case registry(RegistryReference)
    /// An OCI image layout directory, with an optional `org.opencontainers.image.ref.name`.
    case ociLayout(path: String, tag: String?)
    /// A tar of an OCI image layout.
    case ociArchive(path: String, tag: String?)
    /// A `docker save` tarball, with an optional `NAME:TAG` inside it.
    case dockerArchive(path: String, name: String?)

    /// Parses `text`; throws `invalidArgument` naming the text when it fits no form.
    public init(parsing text: String) throws(CapstanError) {
        if text.hasPrefix("docker://") {
            self = .registry(try RegistryReference(parsing: String(text.dropFirst("docker://".count))))
        } else if text.hasPrefix("oci:") {
            let (path, tag) = Self.splitPathAndTag(String(text.dropFirst(4)))
            self = .ociLayout(path: path, tag: tag)
        } else if text.hasPrefix("oci-archive:") {
            let (path, tag) = Self.splitPathAndTag(String(text.dropFirst("oci-archive:".count)))
            self = .ociArchive(path: path, tag: tag)
        } else if text.hasPrefix("docker-archive:") {
            let rest = String(text.dropFirst("docker-archive:".count))
            // docker-archive:PATH[:NAME:TAG]; the path itself holds no colon in practice.
            if let colon = rest.firstIndex(of: ":") {
                self = .dockerArchive(path: String(rest[..<colon]), name: String(rest[rest.index(after: colon)...]))
            } else {
                self = .dockerArchive(path: rest, name: nil)
            }
        } else if text.contains("://") {
            throw CapstanError(.invalidArgument, "image reference '\(text)' has an unsupported transport (expected docker://, oci:, oci-archive: or docker-archive:)")
        } else {
            self = .registry(try RegistryReference(parsing: text))
        }
        if case .ociLayout(let path, _) = self, path.isEmpty { throw CapstanError(.invalidArgument, "image reference '\(text)' has an empty path") }
        if case .ociArchive(let path, _) = self, path.isEmpty { throw CapstanError(.invalidArgument, "image reference '\(text)' has an empty path") }
        if case .dockerArchive(let path, _) = self, path.isEmpty { throw CapstanError(.invalidArgument, "image reference '\(text)' has an empty path") }
    }

    /// `PATH:TAG` where the tag is what follows the last colon after the last slash.
    private static func splitPathAndTag(_ text: String) -> (String, String?) {
        let lastSlash = text.lastIndex(of: "/") ?? text.startIndex
        if let colon = text[lastSlash...].lastIndex(of: ":") {
            let tag = String(text[text.index(after: colon)...])
            return (String(text[..<colon]), tag.isEmpty ? nil : tag)
        }
        return (text, nil)
    }

    public var description: String {
        switch self {
        case .registry(let reference): return "docker://\(reference)"
        case .ociLayout(let path, let tag): return "oci:\(path)" + (tag.map { ":\($0)" } ?? "")
        case .ociArchive(let path, let tag): return "oci-archive:\(path)" + (tag.map { ":\($0)" } ?? "")
        case .dockerArchive(let path, let name): return "docker-archive:\(path)" + (name.map { ":\($0)" } ?? "")
        }
    }
}

/// A registry image name, normalized as Docker does: `busybox` is `docker.io/library/busybox:latest`.
public struct RegistryReference: Hashable, Sendable, CustomStringConvertible {
    /// The registry's `HOST[:PORT]` as written (`docker.io` for Docker Hub).
    public var host: String
    /// The repository path, such as `library/busybox`.
    public var repository: String
    /// The tag; `latest` when neither tag nor digest was given.
    public var tag: String?
    /// The manifest digest, when pinned with `@sha256:…`.
    public var digest: Digest?

    /// Creates a reference from its parts.
    public init(host: String, repository: String, tag: String?, digest: Digest?) {
        self.host = host
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// Parses `HOST[:PORT]/REPO[:TAG][@DIGEST]` or a Docker Hub short name.
    public init(parsing text: String) throws(CapstanError) {
        guard !text.isEmpty else { throw CapstanError(.invalidArgument, "image reference is empty") }
        var rest = Substring(text)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            digest = try Digest(parsing: String(rest[rest.index(after: at)...]))
            rest = rest[..<at]
        }
        var tag: String?
        let lastSlash = rest.lastIndex(of: "/") ?? rest.startIndex
        if let colon = rest[lastSlash...].lastIndex(of: ":") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        var host = "docker.io"
        var path = String(rest)
        if let slash = rest.firstIndex(of: "/") {
            let first = rest[..<slash]
            if first.contains(".") || first.contains(":") || first == "localhost" {
                host = String(first)
                path = String(rest[rest.index(after: slash)...])
            }
        }
        if host == "index.docker.io" || host == "registry-1.docker.io" { host = "docker.io" }
        if host == "docker.io" && !path.contains("/") { path = "library/" + path }
        guard Self.isValidRepository(path) else {
            throw CapstanError(.invalidArgument, "image reference '\(text)' has an invalid repository name '\(path)' (lowercase letters, digits, '.', '_', '-' and '/')")
        }
        if let tag, !Self.isValidTag(tag) {
            throw CapstanError(.invalidArgument, "image reference '\(text)' has an invalid tag '\(tag)'")
        }
        if tag == nil && digest == nil { tag = "latest" }
        self.init(host: host, repository: path, tag: tag, digest: digest)
    }

    private static func isValidRepository(_ path: String) -> Bool {
        guard !path.isEmpty, !path.hasPrefix("/"), !path.hasSuffix("/"), !path.contains("//") else { return false }
        return path.utf8.allSatisfy { c in
            (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 46 || c == 95 || c == 45 || c == 47
        }
    }

    private static func isValidTag(_ tag: String) -> Bool {
        guard !tag.isEmpty, tag.utf8.count <= 128, let first = tag.utf8.first, first != 46, first != 45 else { return false }
        return tag.utf8.allSatisfy { c in
            (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 46 || c == 95 || c == 45
        }
    }

    /// The host to connect to: `registry-1.docker.io` for Docker Hub, else `host`.
    public var endpointHost: String { host == "docker.io" ? "registry-1.docker.io" : host }

    /// The tag or digest to ask the registry for.
    public var manifestReference: String { digest?.description ?? tag ?? "latest" }

    /// `HOST/REPO[:TAG][@DIGEST]`, the name images are listed under.
    public var description: String {
        var text = "\(host)/\(repository)"
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }
}
