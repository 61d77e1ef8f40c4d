import CapstanCore
import CapstanImage
import CapstanTestSupport
import Foundation
import Testing

/// Hostile images are refused when they are imported or pulled, before anything of them is recorded; layers that
/// expand too far are stopped at the limit.
@Suite("HostileImages", .serialized)
struct HostileImageTests {
    static func store(_ dir: String, limits: LayerLimits = LayerLimits()) throws -> ImageStore {
        try ImageStore(root: dir + "/images", limits: limits, logger: ImageTestSupport.logger)
    }

    /// A gzip layer holding one file of `megabytes` MiB of zeros; returns its path and diff ID.
    static func zeroLayer(in dir: String, name: String = "zeros", megabytes: Int) throws -> (path: String, diffID: Digest) {
        let tree = dir + "/" + name
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        try ImageTestSupport.run(["dd", "if=/dev/zero", "of=\(tree)/zeros", "bs=1M", "count=\(megabytes)", "status=none"])
        try ImageTestSupport.tar(tree, to: dir + "/\(name).tar")
        let diffID = try Digest.sha256(ofFile: dir + "/\(name).tar")
        try ImageTestSupport.run(["gzip", "-n", dir + "/\(name).tar"])
        return (dir + "/\(name).tar.gz", diffID)
    }

    /// Nothing of a refused image stays: no record, no blob, no unpacked or half-unpacked layer.
    static func expectNothingStored(_ store: ImageStore) async throws {
        #expect(try await store.list().isEmpty)
        #expect(try await store.content.list().isEmpty)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: store.root + "/layers")) ?? []).isEmpty)
    }

    @Test func aGzipBombLayerStopsAtTheLayerLimitAndNamesTheLayerAndTheLimit() async throws {
        try await ImageTestSupport.withScratch { dir in
            let (layer, _) = try Self.zeroLayer(in: dir, megabytes: 64)
            let compressed = try FileManager.default.attributesOfItem(atPath: layer)[.size] as? Int ?? 0
            #expect(compressed < 1 << 20, "64 MiB of zeros compress to \(compressed) bytes")

            let store = try Self.store(dir, limits: LayerLimits(maxLayerSize: 16 << 20))
            let error = await #expect(throws: CapstanError.self) { try await store.importRootfs(tarball: layer, name: "bomb:1") }
            let message = error?.message ?? ""
            #expect(message.contains("layer sha256:"), "\(message)")
            #expect(message.contains("16 MiB") && message.contains("--max-layer-size"), "\(message)")
            try await Self.expectNothingStored(store)

            // The unpacker stops too (a layer stored before the limit was lowered), and leaves no partial layer.
            let roomy = try Self.store(dir + "/second")
            _ = try await roomy.importRootfs(tarball: layer, name: "bomb:1")
            let strict = try Self.store(dir + "/second", limits: LayerLimits(maxLayerSize: 16 << 20))
            let unpackError = await #expect(throws: CapstanError.self) { try await strict.rootfsLayers(for: "bomb:1") }
            #expect(unpackError?.message.contains("--max-layer-size") == true, "\(unpackError?.message ?? "")")
            #expect(try FileManager.default.contentsOfDirectory(atPath: strict.root + "/layers").isEmpty)

            // Below the limit the same layer imports and unpacks.
            let layers = try await roomy.rootfsLayers(for: "bomb:1").layers
            var info = stat()
            #expect(stat(layers[0] + "/zeros", &info) == 0 && info.st_size == 64 << 20)
        }
    }

    @Test func theUnpackerAloneStopsAtItsLimit() async throws {
        try await ImageTestSupport.withScratch { dir in
            let (layer, _) = try Self.zeroLayer(in: dir, megabytes: 32)
            let target = dir + "/out"
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            let unpacker = LayerUnpacker(logger: ImageTestSupport.logger, maxLayerSize: 4 << 20)
            let error = #expect(throws: CapstanError.self) { try unpacker.unpack(archive: layer, into: target, whiteouts: .markers) }
            #expect(error?.message.contains("more than 4 MiB") == true, "\(error?.message ?? "")")
            #expect(throws: CapstanError.self) { try unpacker.inspect(archive: layer) }
            var info = stat()
            #expect(stat(target + "/zeros", &info) != 0 || info.st_size == 0, "no data was written past the limit")
        }
    }

    @Test func anImageWhoseLayersTogetherPassTheImageLimitIsRefused() async throws {
        try await ImageTestSupport.withScratch { dir in
            let one = try Self.zeroLayer(in: dir, name: "one", megabytes: 3)
            let two = try Self.zeroLayer(in: dir, name: "two", megabytes: 3)
            let writer = try LayoutWriter(directory: dir + "/layout")
            let blobs = try [one, two].map { (try writer.blob(try Data(contentsOf: URL(fileURLWithPath: $0.path)), mediaType: MediaType.ociLayerGzip), $0.diffID) }
            let image = try writer.image(layers: blobs, platform: .current)
            try writer.tag(image.manifest, as: "1")
            let store = try Self.store(dir, limits: LayerLimits(maxLayerSize: 4 << 20, maxImageSize: 5 << 20))
            let error = await #expect(throws: CapstanError.self) { try await store.importImage("oci:\(dir)/layout:1", name: "big:1") }
            #expect(error?.message.contains("--max-image-size") == true, "\(error?.message ?? "")")
            try await Self.expectNothingStored(store)
            // With room for both, it imports.
            _ = try await Self.store(dir + "/roomy", limits: LayerLimits(maxLayerSize: 4 << 20, maxImageSize: 7 << 20))
                .importImage("oci:\(dir)/layout:1", name: "big:1")
        }
    }

    @Test(arguments: LayerUnpackerTests.maliciousCases)
    func aHostileLayerIsRefusedAtImportNamingTheLayerAndTheEntry(kind: String, entry: String, reason: String) async throws {
        try await ImageTestSupport.withScratch { dir in
            let tarball = dir + "/\(kind).tar"
            try LayerUnpackerTests.maliciousTar(kind, at: tarball)
            let diffID = try Digest.sha256(ofFile: tarball)

            // A root file-system tarball.
            let store = try Self.store(dir)
            let error = await #expect(throws: CapstanError.self) { try await store.importRootfs(tarball: tarball, name: "hostile:1") }
            for expected in ["layer sha256:", "refusing layer entry \(entry)", reason] {
                #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error")")
            }
            try await Self.expectNothingStored(store)

            // An OCI layout and an OCI archive of it.
            let writer = try LayoutWriter(directory: dir + "/layout")
            let layer = try writer.blob(try Data(contentsOf: URL(fileURLWithPath: tarball)), mediaType: MediaType.ociLayer)
            let image = try writer.image(layers: [(layer, diffID)], platform: .current)
            try writer.tag(image.manifest, as: "1")
            try ImageTestSupport.run(["tar", "-cf", dir + "/layout.tar", "-C", dir + "/layout", "."])
            for reference in ["oci:\(dir)/layout:1", "oci-archive:\(dir)/layout.tar:1"] {
                let error = await #expect(throws: CapstanError.self) { try await store.importImage(reference, name: "hostile:1") }
                #expect(error?.message.contains("layer \(layer.digest)") == true, "\(error?.message ?? "no error")")
                #expect(error?.message.contains("refusing layer entry \(entry)") == true, "\(error?.message ?? "no error")")
                try await Self.expectNothingStored(store)
            }
        }
    }

    @Test func aLayerWhoseDiffIDIsNotTheConfigsIsRefusedAtImport() async throws {
        try await ImageTestSupport.withScratch { dir in
            try ImageTestSupport.write(["f": "x"], under: dir + "/l")
            try ImageTestSupport.tar(dir + "/l", to: dir + "/l.tar")
            let writer = try LayoutWriter(directory: dir + "/layout")
            let layer = try writer.blob(try Data(contentsOf: URL(fileURLWithPath: dir + "/l.tar")), mediaType: MediaType.ociLayer)
            let image = try writer.image(layers: [(layer, Digest.sha256(of: Data("not the layer".utf8)))], platform: .current)
            try writer.tag(image.manifest, as: "1")
            let store = try Self.store(dir)
            let error = await #expect(throws: CapstanError.self) { try await store.importImage("oci:\(dir)/layout:1", name: "wrong:1") }
            #expect(error?.message.contains("layer \(layer.digest)") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("diff ID") == true, "\(error?.message ?? "")")
            try await Self.expectNothingStored(store)
        }
    }

    @Test func aRefusedImageLeavesTheBlobsOfStoredImagesInPlace() async throws {
        try await ImageTestSupport.withScratch { dir in
            try ImageTestSupport.write(["f": "x"], under: dir + "/good")
            try ImageTestSupport.tar(dir + "/good", to: dir + "/good.tar")
            try LayerUnpackerTests.maliciousTar("dotdot", at: dir + "/bad.tar")
            let writer = try LayoutWriter(directory: dir + "/layout")
            let good = try writer.blob(try Data(contentsOf: URL(fileURLWithPath: dir + "/good.tar")), mediaType: MediaType.ociLayer)
            let bad = try writer.blob(try Data(contentsOf: URL(fileURLWithPath: dir + "/bad.tar")), mediaType: MediaType.ociLayer)
            let image = try writer.image(
                layers: [(good, try Digest.sha256(ofFile: dir + "/good.tar")), (bad, try Digest.sha256(ofFile: dir + "/bad.tar"))], platform: .current)
            try writer.tag(image.manifest, as: "1")
            let store = try Self.store(dir)
            let stored = try await store.importRootfs(tarball: dir + "/good.tar", name: "good:1")
            let before = Set(try await store.content.list())
            await #expect(throws: CapstanError.self) { try await store.importImage("oci:\(dir)/layout:1", name: "bad:1") }
            #expect(try await store.list().map(\.name) == [stored.name])
            #expect(Set(try await store.content.list()) == before)
            #expect(try await store.content.contains(good.digest))
        }
    }

    @Test(Prerequisites.requires("image test", .binaries("docker-registry", "skopeo")))
    func aHostileImageIsRefusedAtPullAndLeavesNothing() async throws {
        try Prerequisites.require(.binaries("docker-registry", "skopeo"))
        try await ImageTestSupport.withScratch { dir in
            try LayerUnpackerTests.maliciousTar("symlink-parent", at: dir + "/hostile.tar")
            let writer = try LayoutWriter(directory: dir + "/layout")
            let layer = try writer.blob(try Data(contentsOf: URL(fileURLWithPath: dir + "/hostile.tar")), mediaType: MediaType.ociLayer)
            let image = try writer.image(layers: [(layer, try Digest.sha256(ofFile: dir + "/hostile.tar"))], platform: .current)
            try writer.tag(image.manifest, as: "1")
            try await LocalRegistry.with(in: dir) { registry in
                try registry.push(layout: dir + "/layout", tag: "1", to: "hostile/app:1")
                for unpack in [false, true] {
                    let store = try ImageStore(
                        root: dir + "/pulled-\(unpack)", options: RegistryOptions(insecureRegistries: [registry.host]), logger: ImageTestSupport.logger)
                    let error = await #expect(throws: CapstanError.self) { try await store.pull("\(registry.host)/hostile/app:1", unpack: unpack) }
                    // (skopeo may recompress the layer on the way: the registry's digest is the one named.)
                    #expect(error?.message.contains("layer sha256:") == true, "\(error?.message ?? "")")
                    #expect(error?.message.contains("refusing layer entry 'link/evil'") == true, "\(error?.message ?? "")")
                    try await Self.expectNothingStored(store)
                }
            }
        }
    }

    @Test func theCLITakesMaxLayerSizeOnImportAndTheCommandsThatStoreImages() async throws {
        try await ImageTestSupport.withScratch { dir in
            let (layer, _) = try Self.zeroLayer(in: dir, megabytes: 32)
            let work = dir + "/work"
            let refused = try ImageTestSupport.run(
                [CapstanBinary.path, "image", "import", layer, "bomb:1", "--max-layer-size", "16M", "--work-dir", work], allowFailure: true)
            #expect(refused.status != 0)
            #expect(refused.output.contains("layer sha256:") && refused.output.contains("16 MiB") && refused.output.contains("--max-layer-size"), "\(refused.output)")
            #expect(try ImageTestSupport.run([CapstanBinary.path, "image", "ls", "--quiet", "--work-dir", work]).output.isEmpty)
            let bad = try ImageTestSupport.run(
                [CapstanBinary.path, "image", "import", layer, "bomb:1", "--max-layer-size", "lots", "--work-dir", work], allowFailure: true)
            #expect(bad.status != 0 && bad.output.contains("--max-layer-size"), "\(bad.output)")
            let imported = try ImageTestSupport.run([CapstanBinary.path, "image", "import", layer, "bomb:1", "--work-dir", work]).output
            #expect(imported.contains("Imported"), "\(imported)")
            for command in [["image", "pull"], ["container", "run"], ["agent"], ["up"]] {
                let help = try ImageTestSupport.run([CapstanBinary.path] + command + ["--help"]).output
                #expect(help.contains("--max-layer-size") && help.contains("--max-image-size"), "\(command)")
            }
        }
    }

    @Test(Prerequisites.requires("image test", .binaries("docker-registry", "skopeo")))
    func aPullPastTheImageLimitIsRefusedWhetherItUnpacksOrNot() async throws {
        try Prerequisites.require(.binaries("docker-registry", "skopeo"))
        try await ImageTestSupport.withScratch { dir in
            let one = try Self.zeroLayer(in: dir, name: "one", megabytes: 3)
            let two = try Self.zeroLayer(in: dir, name: "two", megabytes: 3)
            let writer = try LayoutWriter(directory: dir + "/layout")
            let blobs = try [one, two].map { (try writer.blob(try Data(contentsOf: URL(fileURLWithPath: $0.path)), mediaType: MediaType.ociLayerGzip), $0.diffID) }
            try writer.tag(try writer.image(layers: blobs, platform: .current).manifest, as: "1")
            try await LocalRegistry.with(in: dir) { registry in
                try registry.push(layout: dir + "/layout", tag: "1", to: "big/app:1")
                for unpack in [false, true] {
                    let store = try ImageStore(
                        root: dir + "/pulled-\(unpack)", options: RegistryOptions(insecureRegistries: [registry.host]),
                        limits: LayerLimits(maxLayerSize: 4 << 20, maxImageSize: 5 << 20), logger: ImageTestSupport.logger)
                    let error = await #expect(throws: CapstanError.self) { try await store.pull("\(registry.host)/big/app:1", unpack: unpack) }
                    #expect(error?.message.contains("--max-image-size") == true, "\(error?.message ?? "")")
                    #expect(try await store.list().isEmpty)
                    #expect(try await store.content.list().isEmpty)
                }
            }
        }
    }
}
