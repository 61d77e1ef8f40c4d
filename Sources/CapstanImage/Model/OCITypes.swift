public import CapstanCore
import Foundation

/// OCI and Docker media types Capstan reads and writes.
public enum MediaType {
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"

    /// Whether `type` names a manifest list or OCI index.
    public static func isIndex(_ type: String?) -> Bool { type == ociIndex || type == dockerManifestList }
    /// Whether `type` names a single-platform manifest.
    public static func isManifest(_ type: String?) -> Bool { type == ociManifest || type == dockerManifest }
}

/// An OCI content descriptor.
public struct Descriptor: Codable, Hashable, Sendable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var platform: Platform?
    public var annotations: [String: String]?

    public init(mediaType: String, digest: Digest, size: Int64, platform: Platform? = nil, annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.platform = platform
        self.annotations = annotations
    }
}

/// The platform of one manifest in an index.
public struct Platform: Codable, Hashable, Sendable, CustomStringConvertible {
    public var architecture: String
    public var os: String
    public var variant: String?

    enum CodingKeys: String, CodingKey { case architecture, os, variant }

    public init(architecture: String, os: String, variant: String? = nil) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
    }

    /// linux plus this machine's architecture in OCI spelling (`amd64`, `arm64`, …).
    public static var current: Platform {
        #if arch(x86_64)
        return Platform(architecture: "amd64", os: "linux")
        #elseif arch(arm64)
        return Platform(architecture: "arm64", os: "linux", variant: "v8")
        #elseif arch(arm)
        return Platform(architecture: "arm", os: "linux", variant: "v7")
        #elseif arch(s390x)
        return Platform(architecture: "s390x", os: "linux")
        #elseif arch(powerpc64le)
        return Platform(architecture: "ppc64le", os: "linux")
        #else
        return Platform(architecture: "unknown", os: "linux")
        #endif
    }

    /// Whether a manifest built for `other` runs here (the variant matters only when both name one, arm64's v8 being the default).
    public func accepts(_ other: Platform) -> Bool {
        guard os == other.os, architecture == other.architecture else { return false }
        guard let variant, let otherVariant = other.variant else { return true }
        return variant == otherVariant
    }

    public var description: String { "\(os)/\(architecture)" + (variant.map { "/\($0)" } ?? "") }
}

/// An OCI image manifest or Docker schema-2 manifest (the same shape).
public struct ImageManifest: Codable, Hashable, Sendable {
    public var schemaVersion: Int = 2
    public var mediaType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?

    public init(mediaType: String? = MediaType.ociManifest, config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }
}

/// An OCI image index or Docker manifest list.
public struct ImageIndex: Codable, Hashable, Sendable {
    public var schemaVersion: Int = 2
    public var mediaType: String?
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(mediaType: String? = MediaType.ociIndex, manifests: [Descriptor], annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }

    /// The first manifest for `platform`; throws `notFound` listing the platforms there are.
    public func manifest(for platform: Platform, in source: String) throws -> Descriptor {
        let candidates = manifests.filter { MediaType.isManifest($0.mediaType) || $0.mediaType.isEmpty }
        if let match = candidates.first(where: { $0.platform.map(platform.accepts) ?? false }) { return match }
        let available = candidates.compactMap { $0.platform?.description }.joined(separator: ", ")
        throw CapstanError(.notFound, "\(source) has no manifest for \(platform) (it has: \(available.isEmpty ? "none" : available))")
    }
}

/// What a container runs, from the image config's `config` object.
public struct ImageConfig: Codable, Hashable, Sendable {
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var env: [String]?
    public var workingDir: String?
    public var user: String?
    /// The image's labels (`com.nvidia.volumes.needed`, …).
    public var labels: [String: String]?

    enum CodingKeys: String, CodingKey {
        case entrypoint = "Entrypoint", cmd = "Cmd", env = "Env", workingDir = "WorkingDir", user = "User", labels = "Labels"
    }

    public init(
        entrypoint: [String]? = nil, cmd: [String]? = nil, env: [String]? = nil, workingDir: String? = nil, user: String? = nil,
        labels: [String: String]? = nil
    ) {
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.env = env
        self.workingDir = workingDir
        self.user = user
        self.labels = labels
    }
}

/// The image configuration blob (`application/vnd.oci.image.config.v1+json`), the parts Capstan uses.
public struct ImageConfigFile: Codable, Hashable, Sendable {
    public struct RootFS: Codable, Hashable, Sendable {
        public var type: String
        public var diffIDs: [Digest]
        enum CodingKeys: String, CodingKey { case type, diffIDs = "diff_ids" }
        public init(diffIDs: [Digest]) {
            self.type = "layers"
            self.diffIDs = diffIDs
        }
    }

    public var architecture: String
    public var os: String
    public var variant: String?
    public var created: String?
    public var config: ImageConfig?
    public var rootfs: RootFS

    public init(platform: Platform = .current, created: String? = nil, config: ImageConfig?, diffIDs: [Digest]) {
        self.architecture = platform.architecture
        self.os = platform.os
        self.variant = platform.variant
        self.created = created
        self.config = config
        self.rootfs = RootFS(diffIDs: diffIDs)
    }
}

/// JSON coding shared by the image code: sorted keys so that equal values give equal digests.
enum ImageJSON {
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data, what: String) throws -> T {
        do { return try JSONDecoder().decode(type, from: data) } catch {
            throw CapstanError(.invalidArgument, "\(what) is not valid JSON of the expected shape", cause: error)
        }
    }
}

/// Just the media type of a manifest or index, to tell them apart before decoding.
struct MediaTypeProbe: Decodable {
    var mediaType: String?
    var manifests: [Descriptor]?
    var config: Descriptor?
}
