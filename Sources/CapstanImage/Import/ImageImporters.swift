public import CapstanCore
import Foundation
import CapstanLinux

/// What an importer stored: the manifest, the index it came from, and a name found in the source.
public struct ImportedImage: Sendable {
    public var manifest: Digest
    public var index: Digest?
    public var suggestedName: String?
}

/// The type of a layer file from its first bytes: gzip, zstd or plain tar.
func layerMediaType(ofFile path: String) -> String {
    guard let handle = FileHandle(forReadingAtPath: path), let head = try? handle.read(upToCount: 4) else { return MediaType.ociLayer }
    try? handle.close()
    let bytes = [UInt8](head)
    if bytes.starts(with: [0x1f, 0x8b]) { return MediaType.ociLayerGzip }
    if bytes.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return MediaType.ociLayerZstd }
    return MediaType.ociLayer
}

/// Imports from an OCI image layout directory (`oci:PATH[:TAG]`), verifying every blob's digest.
public struct OCILayoutImporter: Sendable {
    let content: any ContentStore
    let platform: Platform

    public init(content: any ContentStore, platform: Platform = .current) {
        self.content = content
        self.platform = platform
    }

    static let refNameAnnotation = "org.opencontainers.image.ref.name"

    /// Imports the image tagged `tag` (or the only image) from the layout at `directory`. Its suggested name comes
    /// from its `ref.name` and `fileName` (default: the directory's name), see ``ImportName``.
    public func importLayout(at directory: String, tag: String?, fileName: String? = nil) async throws -> ImportedImage {
        guard let data = FileManager.default.contents(atPath: directory + "/index.json") else {
            throw CapstanError(.notFound, "\(directory) is not an OCI image layout (no index.json)")
        }
        let index = try ImageJSON.decode(ImageIndex.self, from: data, what: "\(directory)/index.json")
        let descriptor: Descriptor
        if let tag {
            guard let match = index.manifests.first(where: { $0.annotations?[Self.refNameAnnotation] == tag }) else {
                let tags = index.manifests.compactMap { $0.annotations?[Self.refNameAnnotation] }.joined(separator: ", ")
                throw CapstanError(.notFound, "OCI layout \(directory) has no image tagged '\(tag)' (it has: \(tags.isEmpty ? "none" : tags))")
            }
            descriptor = match
        } else {
            guard index.manifests.count == 1, let only = index.manifests.first else {
                throw CapstanError(.invalidArgument, "OCI layout \(directory) holds \(index.manifests.count) images; name one with oci:PATH:TAG")
            }
            descriptor = only
        }
        let result = try await importDescriptor(descriptor, from: directory)
        let refName = descriptor.annotations?[Self.refNameAnnotation] ?? tag
        let name = ImportName.suggested(fileName: fileName ?? URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent, refName: refName)
        return ImportedImage(manifest: result.manifest, index: result.index, suggestedName: name)
    }

    private func blobPath(_ digest: Digest, in directory: String) -> String { "\(directory)/blobs/\(digest.algorithm)/\(digest.encoded)" }

    private func importDescriptor(_ descriptor: Descriptor, from directory: String) async throws -> (manifest: Digest, index: Digest?) {
        try await content.importFile(at: blobPath(descriptor.digest, in: directory), expected: descriptor.digest)
        let data = try await content.read(descriptor.digest)
        let probe = try ImageJSON.decode(MediaTypeProbe.self, from: data, what: "manifest \(descriptor.digest)")
        if MediaType.isIndex(descriptor.mediaType) || MediaType.isIndex(probe.mediaType) || (probe.manifests != nil && probe.config == nil) {
            let index = try ImageJSON.decode(ImageIndex.self, from: data, what: "index \(descriptor.digest)")
            let chosen = try index.manifest(for: platform, in: "OCI layout \(directory)")
            let inner = try await importDescriptor(chosen, from: directory)
            return (inner.manifest, descriptor.digest)
        }
        let manifest = try ImageJSON.decode(ImageManifest.self, from: data, what: "manifest \(descriptor.digest)")
        for blob in [manifest.config] + manifest.layers {
            try await content.importFile(at: blobPath(blob.digest, in: directory), expected: blob.digest)
        }
        return (descriptor.digest, nil)
    }
}

/// Imports `docker save` tarballs (`docker-archive:PATH[:NAME:TAG]`) and OCI archives (`oci-archive:PATH[:TAG]`),
/// extracting them with the same safe tar reader as layers.
public struct ArchiveImporter: Sendable {
    let content: any ContentStore
    let unpacker: LayerUnpacker
    let platform: Platform
    let scratch: String

    public init(content: any ContentStore, unpacker: LayerUnpacker, scratch: String, platform: Platform = .current) {
        self.content = content
        self.unpacker = unpacker
        self.scratch = scratch
        self.platform = platform
    }

    private func extract<T>(_ archive: String, _ body: (String) async throws -> T) async throws -> T {
        guard FileManager.default.fileExists(atPath: archive) else { throw CapstanError(.notFound, "image archive \(archive) does not exist") }
        let directory = "\(scratch)/extract-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let unpacker = self.unpacker
        _ = try await Blocking.run { try unpacker.unpack(archive: archive, into: directory, whiteouts: .markers) }
        return try await body(directory)
    }

    /// Imports the image tagged `tag` (or the only one) from an OCI layout tarball.
    public func importOCIArchive(at path: String, tag: String?) async throws -> ImportedImage {
        try await extract(path) { directory in
            try await OCILayoutImporter(content: content, platform: platform).importLayout(at: directory, tag: tag, fileName: path)
        }
    }

    struct DockerManifestEntry: Decodable {
        var config: String
        var repoTags: [String]?
        var layers: [String]
        enum CodingKeys: String, CodingKey { case config = "Config", repoTags = "RepoTags", layers = "Layers" }
    }

    /// Imports the image `name` (or the only one) from a `docker save` tarball, building an OCI manifest for it.
    public func importDockerArchive(at path: String, name: String?) async throws -> ImportedImage {
        try await extract(path) { directory in
            guard let data = FileManager.default.contents(atPath: directory + "/manifest.json") else {
                throw CapstanError(.invalidArgument, "\(path) is not a docker save archive (no manifest.json)")
            }
            let entries = try ImageJSON.decode([DockerManifestEntry].self, from: data, what: "manifest.json of \(path)")
            let entry: DockerManifestEntry
            if let name {
                let wanted = Set([name, (try? RegistryReference(parsing: name))?.description].compactMap { $0 })
                guard let match = entries.first(where: { ($0.repoTags ?? []).contains { wanted.contains($0) || wanted.contains((try? RegistryReference(parsing: $0))?.description ?? "") } }) else {
                    throw CapstanError(.notFound, "docker archive \(path) has no image named '\(name)'")
                }
                entry = match
            } else {
                guard entries.count == 1, let only = entries.first else {
                    throw CapstanError(.invalidArgument, "docker archive \(path) holds \(entries.count) images; name one with docker-archive:PATH:NAME:TAG")
                }
                entry = only
            }
            let configPath = try Self.inside(directory, entry.config, archive: path)
            let configDigest = try await content.importFile(at: configPath, expected: nil)
            let configData = try await content.read(configDigest)
            let config = try ImageJSON.decode(ImageConfigFile.self, from: configData, what: "image config in \(path)")
            guard config.rootfs.diffIDs.count == entry.layers.count else {
                throw CapstanError(.invalidArgument, "docker archive \(path) lists \(entry.layers.count) layers but its config has \(config.rootfs.diffIDs.count) diff IDs")
            }
            var layers: [Descriptor] = []
            // Each layer's diff ID and entries are checked by the store before it records the image.
            for layer in entry.layers {
                let layerPath = try Self.inside(directory, layer, archive: path)
                let digest = try await content.importFile(at: layerPath, expected: nil)
                layers.append(Descriptor(mediaType: layerMediaType(ofFile: layerPath), digest: digest, size: await content.size(of: digest) ?? 0))
            }
            let manifest = ImageManifest(
                config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configData.count)), layers: layers)
            let manifestDigest = try await content.put(try ImageJSON.encode(manifest))
            return ImportedImage(manifest: manifestDigest, index: nil, suggestedName: entry.repoTags?.first)
        }
    }

    /// A path named inside an archive, which must stay inside the extraction directory.
    static func inside(_ directory: String, _ relative: String, archive: String) throws -> String {
        let parts = relative.split(separator: "/").map(String.init)
        guard !relative.hasPrefix("/"), !parts.contains("..") else {
            throw CapstanError(.permissionDenied, "archive \(archive) names '\(relative)', which is outside the archive")
        }
        return directory + "/" + parts.joined(separator: "/")
    }
}

/// Makes a single-layer OCI image from a root file-system tarball, as `podman import` does.
public struct RootfsImporter: Sendable {
    let content: any ContentStore

    public init(content: any ContentStore) { self.content = content }

    /// Stores `tarball` (plain, gzip or zstd) as the only layer of a new image with `config`.
    public func importRootfs(tarball: String, config: ImageConfig, platform: Platform = .current) async throws -> ImportedImage {
        guard FileManager.default.fileExists(atPath: tarball) else { throw CapstanError(.notFound, "rootfs tarball \(tarball) does not exist") }
        let diffID = try await Blocking.run { try LayerUnpacker.uncompressedDigest(of: tarball) }
        let layerDigest = try await content.importFile(at: tarball, expected: nil)
        let layer = Descriptor(mediaType: layerMediaType(ofFile: tarball), digest: layerDigest, size: await content.size(of: layerDigest) ?? 0)
        let created = ISO8601DateFormatter().string(from: Date())
        let configFile = ImageConfigFile(platform: platform, created: created, config: config, diffIDs: [diffID])
        let configData = try ImageJSON.encode(configFile)
        let configDigest = try await content.put(configData)
        let manifest = ImageManifest(config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configData.count)), layers: [layer])
        let manifestDigest = try await content.put(try ImageJSON.encode(manifest))
        return ImportedImage(manifest: manifestDigest, index: nil, suggestedName: nil)
    }
}
