public import CapstanCore
import CapstanLinux
import Foundation
import Logging

extension ImageStore {
    /// Every blob of the stored manifest `manifestDigest` (and of the index it came from) that can be read.
    func blobs(of manifestDigest: Digest, index: Digest?) async -> Set<Digest> {
        var digests: Set<Digest> = [manifestDigest]
        if let index { digests.insert(index) }
        if let data = try? await content.read(manifestDigest),
            let manifest = try? ImageJSON.decode(ImageManifest.self, from: data, what: "manifest \(manifestDigest)")
        {
            digests.insert(manifest.config.digest)
            digests.formUnion(manifest.layers.map(\.digest))
        }
        return digests
    }

    /// Reads every layer of the image `name` through (without unpacking it) and refuses the image for anything the
    /// unpacker would refuse, for a layer whose diff ID is not the config's, and for layers that together expand
    /// past ``LayerLimits/maxImageSize``. The error names the image, the layer digest and the entry.
    func verifyLayers(of manifestDigest: Digest, image name: String) async throws {
        let manifest = try ImageJSON.decode(ImageManifest.self, from: try await content.read(manifestDigest), what: "manifest \(manifestDigest) of \(name)")
        let config = try ImageJSON.decode(
            ImageConfigFile.self, from: try await content.read(manifest.config.digest), what: "image config \(manifest.config.digest) of \(name)")
        guard config.rootfs.diffIDs.count == manifest.layers.count else {
            throw CapstanError(.failedPrecondition, "image \(name) has \(manifest.layers.count) layers but \(config.rootfs.diffIDs.count) diff IDs")
        }
        let unpacker = self.unpacker
        var total: Int64 = 0
        for (layer, diffID) in zip(manifest.layers, config.rootfs.diffIDs) {
            let blob = try await content.path(of: layer.digest)
            let inspection: LayerUnpacker.Inspection
            do {
                inspection = try await Blocking.run { try unpacker.inspect(archive: blob) }
            } catch let error as CapstanError {
                throw CapstanError(error.code, "image \(name): layer \(layer.digest) is refused: \(error.message)")
            }
            guard inspection.diffID == diffID else {
                throw CapstanError(
                    .failedPrecondition, "image \(name): layer \(layer.digest) decompresses to \(inspection.diffID), but the image config says its diff ID is \(diffID)")
            }
            total += inspection.summary.bytes
            try checkImageSize(total, image: name)
        }
        logger.debug("verified image layers", metadata: ["image": "\(name)", "layers": "\(manifest.layers.count)", "bytes": "\(total)"])
    }

    /// Refuses an image whose layers expand to `total` bytes when that is more than the limit.
    nonisolated func checkImageSize(_ total: Int64, image name: String) throws {
        guard total <= limits.maxImageSize else {
            throw CapstanError(
                .invalidArgument,
                "image \(name) is refused: its layers expand to more than \(LayerLimits.describe(limits.maxImageSize)), the most an image may (--max-image-size)")
        }
    }

    /// Verifies an image that an importer stored, then records it under `name`; a refused image leaves no record, and
    /// its blobs that nothing else uses are deleted.
    func admit(_ imported: ImportedImage, name: String, source: String) async throws -> ImageRecord {
        let lease = UUID()
        defer { leases[lease] = nil }
        let digests = await blobs(of: imported.manifest, index: imported.index)
        leases[lease] = digests
        do {
            try await verifyLayers(of: imported.manifest, image: name)
        } catch {
            await discard(digests, except: lease)
            throw error
        }
        return try await record(imported, name: name, source: source)
    }

    /// Deletes those of `digests` that no stored image references and no other operation in flight holds.
    func discard(_ digests: Set<Digest>, except lease: UUID) async {
        var used = Set<Digest>()
        for record in (try? list()) ?? [] {
            used.formUnion(await blobs(of: record.manifest, index: record.index))
        }
        for (id, held) in leases where id != lease { used.formUnion(held) }
        for digest in digests.subtracting(used) {
            try? await content.delete(digest)
        }
        logger.info("discarded the blobs of a refused image", metadata: ["blobs": "\(digests.subtracting(used).count)"])
    }
}
