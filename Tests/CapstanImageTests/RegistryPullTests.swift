import CapstanCore
import CapstanImage
import CapstanTestSupport
import Foundation
import Testing

/// Pushes with skopeo to Debian's docker-registry on 127.0.0.1 and pulls back with the registry client.
@Suite("RegistryPull", .serialized, Prerequisites.requires("image test", .binaries("docker-registry", "skopeo", "htpasswd", "busybox")))
struct RegistryPullTests {
    /// Imports busybox into a source store and writes it as an OCI layout for skopeo; returns the layout and the source record's config digest.
    static func busyboxLayout(in dir: String) async throws -> (layout: String, config: Digest) {
        let source = try ImageStore(root: dir + "/source", logger: ImageTestSupport.logger)
        _ = try await source.importRootfs(tarball: try ImageTestSupport.busyboxRootfs(in: dir), name: "busybox:1", config: ImageConfig(cmd: ["/bin/sh"]))
        try await source.exportOCILayout("busybox:1", to: dir + "/layout", tag: "1")
        let record = try #require(try await source.image(named: "busybox:1"))
        return (dir + "/layout", try await source.manifest(of: record).config.digest)
    }

    static func checkPulled(_ store: ImageStore, name: String, config: Digest) async throws {
        let record = try #require(try await store.image(named: name))
        #expect(try await store.manifest(of: record).config.digest == config)
        let (layers, imageConfig) = try await store.rootfsLayers(for: name)
        #expect(imageConfig.cmd == ["/bin/sh"])
        let pulled = try Data(contentsOf: URL(fileURLWithPath: layers[0] + "/bin/busybox"))
        #expect(pulled == (try Data(contentsOf: URL(fileURLWithPath: Prerequisites.which("busybox")!))))
    }

    @Test func pullsAnonymouslyFromALocalRegistryAndDownloadsOnceForConcurrentPulls() async throws {
        try Prerequisites.require(.binaries("docker-registry", "skopeo", "busybox"))
        try await ImageTestSupport.withScratch { dir in
            let (layout, config) = try await Self.busyboxLayout(in: dir)
            try await LocalRegistry.with(in: dir) { registry in
                try registry.push(layout: layout, tag: "1", to: "busybox:1")
                let store = try ImageStore(root: dir + "/pulled", options: RegistryOptions(insecureRegistries: [registry.host]), logger: ImageTestSupport.logger)
                let downloads = Counter()
                let name = "docker://\(registry.host)/busybox:1"
                async let first = store.pull(name) { if case .stored(_, cached: false) = $0 { downloads.increment() } }
                async let second = store.pull(name) { if case .stored(_, cached: false) = $0 { downloads.increment() } }
                let (a, b) = try await (first, second)
                #expect(a.manifest == b.manifest)
                #expect(downloads.value == 2)  // the config and the one layer, once each
                try await Self.checkPulled(store, name: "\(registry.host)/busybox:1", config: config)
                // By digest too.
                let byDigest = try await store.pull("\(registry.host)/busybox@\(a.manifest)")
                #expect(byDigest.manifest == a.manifest)
            }
        }
    }

    @Test func pullsWithHtpasswdBasicAuthAndFailsWithoutCredentials() async throws {
        try Prerequisites.require(.binaries("docker-registry", "skopeo", "htpasswd", "busybox"))
        try await ImageTestSupport.withScratch { dir in
            let (layout, config) = try await Self.busyboxLayout(in: dir)
            try await LocalRegistry.with(in: dir, basicAuth: true) { registry in
                try registry.push(layout: layout, tag: "1", to: "private/busybox:1")
                let anonymous = try ImageStore(
                    root: dir + "/anonymous", options: RegistryOptions(insecureRegistries: [registry.host], authFiles: []), logger: ImageTestSupport.logger)
                let error = await #expect(throws: CapstanError.self) { try await anonymous.pull("\(registry.host)/private/busybox:1") }
                #expect(error?.code == .permissionDenied)
                // Credentials from a Docker-style config.json.
                let auth = Data("capstan:s3cret-pass".utf8).base64EncodedString()
                try ImageTestSupport.write(["config.json": #"{"auths":{"\#(registry.host)":{"auth":"\#(auth)"}}}"#], under: dir + "/docker")
                let store = try ImageStore(
                    root: dir + "/pulled", options: RegistryOptions(insecureRegistries: [registry.host], authFiles: [dir + "/docker/config.json"]),
                    logger: ImageTestSupport.logger)
                _ = try await store.pull("docker://\(registry.host)/private/busybox:1")
                try await Self.checkPulled(store, name: "\(registry.host)/private/busybox:1", config: config)
            }
        }
    }

    @Test func rejectsACorruptedBlobFromTheRegistry() async throws {
        try Prerequisites.require(.binaries("docker-registry", "skopeo", "busybox"))
        try await ImageTestSupport.withScratch { dir in
            let (layout, config) = try await Self.busyboxLayout(in: dir)
            try await LocalRegistry.with(in: dir) { registry in
                try registry.push(layout: layout, tag: "1", to: "busybox:1")
                // Flip one byte of the config blob in the registry's storage.
                let data = registry.storage + "/docker/registry/v2/blobs/sha256/\(config.encoded.prefix(2))/\(config.encoded)/data"
                var bytes = try Data(contentsOf: URL(fileURLWithPath: data))
                bytes[bytes.count / 2] ^= 0x20
                try bytes.write(to: URL(fileURLWithPath: data))
                let store = try ImageStore(root: dir + "/pulled", options: RegistryOptions(insecureRegistries: [registry.host]), logger: ImageTestSupport.logger)
                let error = await #expect(throws: CapstanError.self) { try await store.pull("\(registry.host)/busybox:1") }
                #expect(error?.message.contains("failed verification") == true, "\(error?.description ?? "")")
                #expect(await store.content.contains(config) == false)
                #expect(try await store.list().isEmpty)
            }
        }
    }

    @Test(Prerequisites.requires("zstd layers", .binary("zstd")))
    func pullsAndUnpacksAZstdLayer() async throws {
        try Prerequisites.require(.binaries("docker-registry", "skopeo", "busybox", "zstd"))
        try await ImageTestSupport.withScratch { dir in
            let tar = try ImageTestSupport.busyboxRootfs(in: dir)
            try ImageTestSupport.run(["zstd", "-q", "-o", dir + "/layer.tar.zst", tar])
            let writer = try LayoutWriter(directory: dir + "/layout")
            let layer = try writer.blob(try Data(contentsOf: URL(fileURLWithPath: dir + "/layer.tar.zst")), mediaType: MediaType.ociLayerZstd)
            let diffID = try Digest.sha256(ofFile: tar)
            let image = try writer.image(layers: [(layer, diffID)], platform: .current)
            try writer.tag(image.manifest, as: "1")
            try await LocalRegistry.with(in: dir) { registry in
                try registry.push(layout: dir + "/layout", tag: "1", to: "zstd/busybox:1")
                let store = try ImageStore(root: dir + "/pulled", options: RegistryOptions(insecureRegistries: [registry.host]), logger: ImageTestSupport.logger)
                let record = try await store.pull("\(registry.host)/zstd/busybox:1")
                #expect(try await store.manifest(of: record).layers.map(\.mediaType) == [MediaType.ociLayerZstd])
                try await Self.checkPulled(store, name: "\(registry.host)/zstd/busybox:1", config: image.config.digest)
            }
        }
    }

    @Test func picksThePlatformFromAnIndexOfSeveralAndNamesTheMissingOne() async throws {
        try Prerequisites.require(.binaries("docker-registry", "skopeo", "busybox"))
        try await ImageTestSupport.withScratch { dir in
            let tar = try ImageTestSupport.busyboxRootfs(in: dir)
            try ImageTestSupport.run(["gzip", "-k", "-n", tar])
            let writer = try LayoutWriter(directory: dir + "/layout")
            let layer = try writer.blob(try Data(contentsOf: URL(fileURLWithPath: tar + ".gz")), mediaType: MediaType.ociLayerGzip)
            let diffID = try Digest.sha256(ofFile: tar)
            let arm64 = Platform(architecture: "arm64", os: "linux", variant: "v8")
            let amd64 = Platform(architecture: "amd64", os: "linux")
            let armImage = try writer.image(layers: [(layer, diffID)], platform: arm64)
            let amdImage = try writer.image(layers: [(layer, diffID)], platform: amd64)
            let index = try writer.json(ImageIndex(manifests: [armImage.manifest, amdImage.manifest]), mediaType: MediaType.ociIndex)
            try writer.tag(index, as: "multi")
            try await LocalRegistry.with(in: dir) { registry in
                try registry.push(layout: dir + "/layout", tag: "multi", to: "multi/busybox:1", all: true)
                let name = "\(registry.host)/multi/busybox:1"
                for (platform, expected) in [(arm64, armImage.config.digest), (amd64, amdImage.config.digest)] {
                    let store = try ImageStore(
                        root: dir + "/pulled-\(platform.architecture)", options: RegistryOptions(insecureRegistries: [registry.host], platform: platform),
                        logger: ImageTestSupport.logger)
                    let record = try await store.pull(name)
                    #expect(try await store.manifest(of: record).config.digest == expected, "\(platform)")
                    #expect(try await store.configFile(of: record).architecture == platform.architecture)
                    #expect(record.index != nil, "the index it was chosen from is kept")
                }
                let s390x = try ImageStore(
                    root: dir + "/pulled-s390x",
                    options: RegistryOptions(insecureRegistries: [registry.host], platform: Platform(architecture: "s390x", os: "linux")),
                    logger: ImageTestSupport.logger)
                let error = await #expect(throws: CapstanError.self) { try await s390x.pull(name) }
                #expect(error?.code == .notFound)
                #expect(error?.message.contains("no manifest for linux/s390x (it has: linux/arm64/v8, linux/amd64)") == true, "\(error?.description ?? "")")
                #expect(try await s390x.list().isEmpty)

                // The same choice from the OCI layout itself.
                let local = try ImageStore(root: dir + "/imported", options: RegistryOptions(platform: arm64), logger: ImageTestSupport.logger)
                let imported = try await local.importImage("oci:\(dir)/layout:multi", name: "multi:1")
                #expect(try await local.manifest(of: imported).config.digest == armImage.config.digest)
            }
        }
    }
}
