public import CapstanCore
import Foundation

extension ImageStore {
    /// What a pull reports as it goes, for progress displays.
    public enum PullEvent: Sendable {
        /// The manifest was resolved; `blobs` lists config and layers with their sizes.
        case resolved(manifest: Digest, blobs: [Descriptor])
        /// Bytes of one blob downloaded so far.
        case progress(Digest, downloaded: Int64, total: Int64)
        /// One blob is stored (`cached` when it was already there).
        case stored(Digest, cached: Bool)
    }

    /// Pulls `text` (`docker://…` or a short name) from its registry, verifying every digest; layers download in
    /// parallel. Concurrent pulls of one reference share one download. With `unpack`, each layer is also unpacked
    /// (and its diff ID verified) as soon as its blob is stored, while the others still download.
    @discardableResult
    public func pull(_ text: String, unpack: Bool = false, progress: (@Sendable (PullEvent) -> Void)? = nil) async throws -> ImageRecord {
        guard case .registry(let reference) = try ImageReference(parsing: text) else {
            throw CapstanError(.invalidArgument, "'\(text)' is not a registry reference; use image import")
        }
        let key = reference.description
        if let running = inflightPulls[key] { return try await running.value }
        let task = Task { try await self.performPull(reference, unpack: unpack, progress: progress) }
        inflightPulls[key] = task
        defer { inflightPulls[key] = nil }
        return try await task.value
    }

    private func performPull(_ reference: RegistryReference, unpack: Bool, progress: (@Sendable (PullEvent) -> Void)?) async throws -> ImageRecord {
        let lease = UUID()
        defer { leases[lease] = nil }
        let client = try RegistryClient(reference: reference, options: options, logger: logger)
        let top = try await client.manifest(reference.manifestReference)
        leases[lease, default: []].insert(top.digest)
        try await content.put(top.data)
        var manifestDigest = top.digest
        var manifestData = top.data
        var indexDigest: Digest?
        let probe = try ImageJSON.decode(MediaTypeProbe.self, from: top.data, what: "manifest of \(reference)")
        if MediaType.isIndex(top.mediaType) || MediaType.isIndex(probe.mediaType) || (probe.manifests != nil && probe.config == nil) {
            let index = try ImageJSON.decode(ImageIndex.self, from: top.data, what: "index of \(reference)")
            let chosen = try index.manifest(for: options.platform, in: reference.description)
            let inner = try await client.manifest(chosen.digest.description)
            leases[lease, default: []].insert(inner.digest)
            try await content.put(inner.data)
            indexDigest = top.digest
            manifestDigest = inner.digest
            manifestData = inner.data
        }
        let manifest = try ImageJSON.decode(ImageManifest.self, from: manifestData, what: "manifest \(manifestDigest) of \(reference)")
        if let mediaType = manifest.mediaType, !MediaType.isManifest(mediaType) {
            throw CapstanError(.unsupported, "\(reference) has a manifest of type \(mediaType), which Capstan cannot pull")
        }
        let blobs = [manifest.config] + manifest.layers
        leases[lease, default: []].formUnion(blobs.map(\.digest))
        progress?(.resolved(manifest: manifestDigest, blobs: blobs))
        let content = self.content
        @Sendable func fetch(_ blob: Descriptor) async throws {
            if await content.contains(blob.digest) {
                progress?(.stored(blob.digest, cached: true))
                return
            }
            try await content.ingest(blob.digest, size: blob.size) { writer in
                try await client.blob(blob, into: writer) { bytes in progress?(.progress(blob.digest, downloaded: bytes, total: blob.size)) }
            }
            progress?(.stored(blob.digest, cached: false))
        }
        // The config first when unpacking: its diff IDs verify each layer as it is unpacked.
        let diffIDs: [Digest]?
        if unpack {
            try await fetch(manifest.config)
            let config = try ImageJSON.decode(ImageConfigFile.self, from: try await content.read(manifest.config.digest), what: "image config \(manifest.config.digest)")
            guard config.rootfs.diffIDs.count == manifest.layers.count else {
                throw CapstanError(.failedPrecondition, "image \(reference) has \(manifest.layers.count) layers but \(config.rootfs.diffIDs.count) diff IDs")
            }
            diffIDs = config.rootfs.diffIDs
        } else {
            diffIDs = nil
        }
        // A download that fails keeps what it stored (the next pull resumes from it); a refused image keeps nothing.
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                if diffIDs == nil { group.addTask { try await fetch(manifest.config) } }
                for (position, layer) in manifest.layers.enumerated() {
                    let diffID = diffIDs?[position]
                    group.addTask {
                        try await fetch(layer)
                        guard let diffID else { return }
                        do {
                            _ = try await self.unpackedLayer(layer, diffID: diffID)
                        } catch {
                            throw RefusedImage(error: error)
                        }
                    }
                }
                try await group.waitForAll()
            }
            // Unpacking checked each layer as it went; otherwise read them through now, before the image is recorded.
            do {
                if let diffIDs {
                    try checkImageSize(diffIDs.compactMap { unpackedSize($0) }.reduce(0, +), image: reference.description)
                } else {
                    try await verifyLayers(of: manifestDigest, image: reference.description)
                }
            } catch {
                throw RefusedImage(error: error)
            }
        } catch let refused as RefusedImage {
            await discard(leases[lease] ?? [], except: lease)
            throw refused.error
        }
        let imported = ImportedImage(manifest: manifestDigest, index: indexDigest, suggestedName: reference.description)
        return try await record(imported, name: reference.description, source: "docker://\(reference)")
    }
}

/// An image refused while it was pulled (as opposed to a download that failed), whose blobs are discarded.
private struct RefusedImage: Error {
    let error: any Error
}
