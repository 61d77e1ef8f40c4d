public import CapstanCore
import CapstanLinux
import Foundation
public import Logging

/// The image store under `<work-dir>/images`: a content store of blobs (`content/`), the image index
/// (`images.json`, name → manifest digest), and layers unpacked once each under `layers/<diff-id>/rootfs`,
/// shared read-only by every container, with a `.complete` marker written last.
///
/// Contract: `pull`, `importImage` and `rootfsLayers` are idempotent and safe to call concurrently; two calls
/// for one image download and unpack it once. `prune` never removes content an operation in flight is using.
public actor ImageStore {
    /// The store's root directory.
    public nonisolated let root: String
    /// The blobs.
    public nonisolated let content: LocalContentStore
    let logger: Logger
    let options: RegistryOptions
    /// How far layers and images may expand (`--max-layer-size`, `--max-image-size`).
    public nonisolated let limits: LayerLimits
    let unpacker: LayerUnpacker
    let index: ImageIndexFile
    var inflightPulls: [String: Task<ImageRecord, any Error>] = [:]
    var inflightUnpacks: [Digest: Task<String, any Error>] = [:]
    var leases: [UUID: Set<Digest>] = [:]
    var durableWriteProbe: DurableWriteProbe?

    /// Opens (creating when needed) the store at `root`, removing what interrupted runs left half-written.
    /// Every image is checked before it is recorded: its layers are read through and refused for hostile entries,
    /// a wrong diff ID or more than `limits` allow (see ``LayerUnpacker/inspect(archive:)``).
    public init(root: String, options: RegistryOptions = RegistryOptions(), limits: LayerLimits = LayerLimits(), logger: Logger) throws {
        self.root = root
        self.logger = logger
        self.options = options
        self.limits = limits
        unpacker = LayerUnpacker(logger: logger, maxLayerSize: limits.maxLayerSize)
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/layers", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/tmp", withIntermediateDirectories: true)
        content = try LocalContentStore(root: root + "/content", logger: logger)
        index = ImageIndexFile(path: root + "/images.json")
    }

    /// Sets the test seam called before each durable write of the store itself (layer-user records, OCI layouts);
    /// the content store has its own.
    func setDurableWriteProbe(_ probe: DurableWriteProbe?) { durableWriteProbe = probe }

    // MARK: Names

    /// The stored name for `text`: registry references normalized (`busybox` → `docker.io/library/busybox:latest`).
    public static func normalizedName(_ text: String) -> String {
        if case .registry(let reference)? = try? ImageReference(parsing: text) { return reference.description }
        return text
    }

    /// Every stored image, by name.
    public func list() throws -> [ImageRecord] {
        try index.read().images.values.sorted { $0.name < $1.name }
    }

    /// The record for `name` (normalized), or nil.
    public func image(named name: String) throws -> ImageRecord? {
        let images = try index.read().images
        return images[name] ?? images[Self.normalizedName(name)]
    }

    /// Removes the name `name`; its content stays until `prune`. Throws `notFound` when there is no such image.
    public func remove(_ name: String) async throws {
        let root = self.root
        try await index.update { contents in
            let key = contents.images[name] != nil ? name : Self.normalizedName(name)
            guard contents.images.removeValue(forKey: key) != nil else {
                throw CapstanError(.notFound, "no image named '\(name)' in \(root)")
            }
        }
        logger.info("removed image", metadata: ["image": "\(name)"])
    }

    func record(_ imported: ImportedImage, name: String, source: String) async throws -> ImageRecord {
        let record = ImageRecord(name: name, manifest: imported.manifest, index: imported.index, source: source)
        try await index.update { $0.images[name] = record }
        logger.info("stored image", metadata: ["image": "\(name)", "manifest": "\(imported.manifest)"])
        return record
    }

    // MARK: Manifests

    /// The manifest of a stored image.
    public func manifest(of record: ImageRecord) async throws -> ImageManifest {
        try ImageJSON.decode(ImageManifest.self, from: try await content.read(record.manifest), what: "manifest \(record.manifest)")
    }

    /// The config blob of a stored image.
    public func configFile(of record: ImageRecord) async throws -> ImageConfigFile {
        let manifest = try await manifest(of: record)
        return try ImageJSON.decode(ImageConfigFile.self, from: try await content.read(manifest.config.digest), what: "image config \(manifest.config.digest)")
    }

    // MARK: Import

    /// Imports `oci:`, `oci-archive:` or `docker-archive:` under `name` (or the name found in the source).
    public func importImage(_ text: String, name: String?) async throws -> ImageRecord {
        let reference = try ImageReference(parsing: text)
        let imported: ImportedImage
        switch reference {
        case .registry:
            throw CapstanError(.invalidArgument, "'\(text)' is a registry reference; use image pull")
        case .ociLayout(let path, let tag):
            imported = try await OCILayoutImporter(content: content, platform: options.platform).importLayout(at: path, tag: tag)
        case .ociArchive(let path, let tag):
            imported = try await archiveImporter.importOCIArchive(at: path, tag: tag)
        case .dockerArchive(let path, let name):
            imported = try await archiveImporter.importDockerArchive(at: path, name: name)
        }
        guard let finalName = name ?? imported.suggestedName else {
            await discard(await blobs(of: imported.manifest, index: imported.index), except: UUID())
            throw CapstanError(.invalidArgument, "\(text) names no image and its file name is no image name; give a name to import it under")
        }
        return try await admit(imported, name: Self.normalizedName(finalName), source: reference.description)
    }

    /// Makes a single-layer image `name` from a root file-system tarball, as `podman import` does.
    public func importRootfs(tarball: String, name: String, config: ImageConfig = ImageConfig()) async throws -> ImageRecord {
        let imported = try await RootfsImporter(content: content).importRootfs(tarball: tarball, config: config, platform: options.platform)
        return try await admit(imported, name: Self.normalizedName(name), source: "import:\(tarball)")
    }

    var archiveImporter: ArchiveImporter {
        // The archive holds every layer of an image, compressed: bounded by the image's limit, not one layer's.
        ArchiveImporter(
            content: content, unpacker: LayerUnpacker(logger: logger, maxLayerSize: limits.maxImageSize), scratch: root + "/tmp",
            platform: options.platform)
    }

    // MARK: Layers

    /// The unpacked layer directories (bottom first) and run config of `reference`, pulling or importing it first
    /// when it is not stored. This is what the containerizer mounts. With `user`, the layers are recorded as that
    /// user's (see ``LayerUser``) before they are unpacked, so that no `prune` removes them while it runs; call
    /// ``releaseLayers(user:)`` when it ends.
    public func rootfsLayers(for reference: String, user: LayerUser? = nil) async throws -> (layers: [String], config: ImageConfig) {
        let record: ImageRecord
        if let stored = try image(named: reference) {
            record = stored
        } else {
            switch try ImageReference(parsing: reference) {
            case .registry: record = try await pull(reference, unpack: true)
            default: record = try await importImage(reference, name: nil)
            }
        }
        let manifest = try await manifest(of: record)
        let config = try await configFile(of: record)
        guard config.rootfs.diffIDs.count == manifest.layers.count else {
            throw CapstanError(.failedPrecondition, "image \(record.name) has \(manifest.layers.count) layers but \(config.rootfs.diffIDs.count) diff IDs")
        }
        if var user {
            user.layers = config.rootfs.diffIDs
            try await recordUser(user)
        }
        do {
            // Layers are independent directories: unpack them side by side.
            let layers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for (position, (layer, diffID)) in zip(manifest.layers, config.rootfs.diffIDs).enumerated() {
                    group.addTask { (position, try await self.unpackedLayer(layer, diffID: diffID)) }
                }
                var directories = [String](repeating: "", count: manifest.layers.count)
                for try await (position, directory) in group { directories[position] = directory }
                return directories
            }
            return (layers, config.config ?? ImageConfig())
        } catch {
            // No layers were handed out: the user holds none.
            if let user { try? releaseLayers(user: user.name) }
            throw error
        }
    }

    /// The whiteout format of the stored layers: overlayfs's when root, else the OCI marker files.
    nonisolated var layerWhiteouts: LayerUnpacker.WhiteoutMode { geteuid() == 0 ? .overlay : .markers }

    nonisolated func layerDirectory(_ diffID: Digest) -> String { "\(root)/layers/\(diffID.encoded)" }

    /// The bytes an unpacked layer expanded to, from its `.complete` marker (its second line; nil for layers unpacked
    /// before it was recorded).
    nonisolated func unpackedSize(_ diffID: Digest) -> Int64? {
        guard let text = try? String(contentsOfFile: layerDirectory(diffID) + "/.complete", encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n")
        return lines.count > 1 ? Int64(lines[1]) : nil
    }

    /// Unpacks one layer once, into a temporary directory renamed into place after `.complete` is written.
    func unpackedLayer(_ layer: Descriptor, diffID: Digest) async throws -> String {
        let directory = layerDirectory(diffID)
        if FileManager.default.fileExists(atPath: directory + "/.complete") { return directory + "/rootfs" }
        if let running = inflightUnpacks[diffID] { return try await running.value }
        let blob = try await content.path(of: layer.digest)
        let unpacker = self.unpacker, mode = layerWhiteouts, scratch = root + "/layers/.tmp-\(UUID().uuidString)"
        let logger = self.logger
        let task = Task<String, any Error> {
            try await Blocking.run {
                let fm = FileManager.default
                defer { try? fm.removeItem(atPath: scratch) }
                try fm.createDirectory(atPath: scratch + "/rootfs", withIntermediateDirectories: true)
                let actual: Digest, bytes: Int64
                do {
                    let result = try unpacker.unpackVerifying(archive: blob, into: scratch + "/rootfs", whiteouts: mode)
                    (actual, bytes) = (result.diffID, result.summary.bytes)
                } catch let error as CapstanError {
                    throw CapstanError(error.code, "layer \(layer.digest) is refused: \(error.message)")
                }
                guard actual == diffID else {
                    throw CapstanError(.failedPrecondition, "layer \(layer.digest) decompresses to \(actual), but the image config says \(diffID)")
                }
                // The unpacker writes without fsync: flush the tree before `.complete` says it is whole, so a power
                // cut never leaves a layer marked complete with empty files in it.
                try AtomicFile.syncFileSystem(containing: scratch)
                try AtomicFile.write(Data("\(mode.rawValue)\n\(bytes)\n".utf8), to: scratch + "/.complete")
                try? fm.removeItem(atPath: directory)  // an interrupted earlier attempt
                guard rename(scratch, directory) == 0 else {
                    throw CapstanError.system("cannot move unpacked layer into \(directory)", errno: errno)
                }
                AtomicFile.syncDirectory(of: directory)
                logger.info("unpacked layer", metadata: ["diff_id": "\(diffID)", "whiteouts": "\(mode.rawValue)"])
                return directory + "/rootfs"
            }
        }
        inflightUnpacks[diffID] = task
        defer { inflightUnpacks[diffID] = nil }
        return try await task.value
    }

    /// Applies the image's layer blobs one on top of the other into `directory`: a flat root file system
    /// (the copy fallback when overlayfs is not available).
    public func flatten(_ name: String, into directory: String) async throws {
        guard let record = try image(named: name) else { throw CapstanError(.notFound, "no image named '\(name)' in \(root)") }
        let manifest = try await manifest(of: record)
        for layer in manifest.layers {
            let blob = try await content.path(of: layer.digest)
            let unpacker = self.unpacker
            _ = try await Blocking.run { try unpacker.unpack(archive: blob, into: directory, whiteouts: .apply) }
        }
    }

    // MARK: Export

    /// Writes `name` as an OCI image layout at `directory`, tagged `tag` (for `skopeo copy oci:…`).
    public func exportOCILayout(_ name: String, to directory: String, tag: String) async throws {
        guard let record = try image(named: name) else { throw CapstanError(.notFound, "no image named '\(name)' in \(root)") }
        let manifest = try await manifest(of: record)
        // The blobs' paths (or why one is missing) first; the copies and durable writes then run in one go on
        // the blocking pool. A missing blob counts only where the layout does not hold it yet.
        var blobs: [(digest: Digest, source: Result<String, any Error>)] = []
        for digest in [record.manifest, manifest.config.digest] + manifest.layers.map(\.digest) {
            do { blobs.append((digest, .success(try await content.path(of: digest)))) } catch { blobs.append((digest, .failure(error))) }
        }
        let size = Int64(try await content.read(record.manifest).count)
        let index = try ImageJSON.encode(ImageIndex(manifests: [
            Descriptor(mediaType: manifest.mediaType ?? MediaType.ociManifest, digest: record.manifest, size: size, annotations: [OCILayoutImporter.refNameAnnotation: tag])
        ]))
        let probe = durableWriteProbe, sources = blobs
        try await Blocking.run {
            try Self.writeOCILayout(at: directory, blobs: sources, index: index, probe: probe)
        }
    }

    /// Links (or copies) the blobs into the layout at `directory`, then writes `index.json` and `oci-layout`
    /// atomically and durably. Blocking: runs on ``Blocking``'s pool.
    private static func writeOCILayout(
        at directory: String, blobs: [(digest: Digest, source: Result<String, any Error>)], index: Data, probe: DurableWriteProbe?
    ) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory + "/blobs/sha256", withIntermediateDirectories: true)
        for (digest, source) in blobs {
            let destination = directory + "/blobs/sha256/" + digest.encoded
            if fm.fileExists(atPath: destination) { continue }
            let source = try source.get()
            if link(source, destination) != 0 { try fm.copyItem(atPath: source, toPath: destination) }
        }
        probe?(directory + "/index.json")
        try AtomicFile.write(index, to: directory + "/index.json")
        probe?(directory + "/oci-layout")
        try AtomicFile.write(Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: directory + "/oci-layout")
    }

    // MARK: Prune

    /// What `prune` removed.
    public struct PruneReport: Sendable, Equatable {
        public var blobs: [Digest] = []
        public var layers: [Digest] = []
        public var bytes: Int64 = 0
        public init() {}
    }

    /// Removes every blob and unpacked layer that no stored image references, no container mounts (``LayerUser``)
    /// and no operation in flight uses, plus temporary files left by interrupted runs.
    public func prune() async throws -> PruneReport {
        var usedBlobs = Set<Digest>()
        var usedLayers = Set<String>()
        for record in try list() {
            usedBlobs.insert(record.manifest)
            if let index = record.index { usedBlobs.insert(index) }
            let manifest: ImageManifest
            do { manifest = try await self.manifest(of: record) } catch let error as CapstanError where error.code == .failedPrecondition {
                // A damaged manifest: prune will not guess which layers the image needs.
                throw CapstanError(.failedPrecondition, "Prune stopped at image \(record.name): \(error.message)")
            } catch {
                continue
            }
            usedBlobs.insert(manifest.config.digest)
            usedBlobs.formUnion(manifest.layers.map(\.digest))
            if let config = try? await configFile(of: record) { usedLayers.formUnion(config.rootfs.diffIDs.map(\.encoded)) }
        }
        for lease in leases.values { usedBlobs.formUnion(lease); usedLayers.formUnion(lease.map(\.encoded)) }
        usedLayers.formUnion(inflightUnpacks.keys.map(\.encoded))
        for user in try layerUsers() { usedLayers.formUnion(user.layers.map(\.encoded)) }
        var report = PruneReport()
        if inflightPulls.isEmpty { await content.removeStaleIngests(olderThan: 0) } else { await content.removeStaleIngests() }
        for digest in try await content.list() where !usedBlobs.contains(digest) {
            report.bytes += await content.size(of: digest) ?? 0
            try await content.delete(digest)
            report.blobs.append(digest)
        }
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: root + "/layers")) ?? [] {
            if name.hasPrefix(".tmp-") {
                if inflightUnpacks.isEmpty { try? LayerRoot.removeTree(name, in: try LayerRoot(path: root + "/layers").fd) }
                continue
            }
            guard !usedLayers.contains(name), let digest = try? Digest(algorithm: "sha256", encoded: name) else { continue }
            let layers = try LayerRoot(path: root + "/layers")
            try LayerRoot.removeTree(name, in: layers.fd)
            report.layers.append(digest)
        }
        logger.info("pruned images", metadata: ["blobs": "\(report.blobs.count)", "layers": "\(report.layers.count)"])
        return report
    }
}
