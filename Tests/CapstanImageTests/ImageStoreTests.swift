import CapstanCore
@testable import CapstanImage
import CapstanTestSupport
import Foundation
import Testing

@Suite("ImageStore")
struct ImageStoreTests {
    static func store(_ dir: String, options: RegistryOptions = RegistryOptions()) throws -> ImageStore {
        try ImageStore(root: dir + "/images", options: options, logger: ImageTestSupport.logger)
    }

    @Test(Prerequisites.requires("image test", .binaries("busybox")))
    func importsABusyboxRootfsTarballAsASingleLayerImage() async throws {
        try Prerequisites.require(.binaries("busybox"))
        try await ImageTestSupport.withScratch { dir in
            let store = try Self.store(dir)
            let tarball = try ImageTestSupport.busyboxRootfs(in: dir)
            let record = try await store.importRootfs(tarball: tarball, name: "busybox:1", config: ImageConfig(cmd: ["/bin/sh"]))
            #expect(record.name == "docker.io/library/busybox:1")
            #expect(try await store.list().map(\.name) == ["docker.io/library/busybox:1"])
            let (layers, config) = try await store.rootfsLayers(for: "busybox:1")
            #expect(config.cmd == ["/bin/sh"])
            #expect(layers.count == 1)
            #expect(layers[0].hasPrefix(dir + "/images/layers/"))
            #expect(FileManager.default.fileExists(atPath: (layers[0] as NSString).deletingLastPathComponent + "/.complete"))
            let busybox = try Data(contentsOf: URL(fileURLWithPath: layers[0] + "/bin/busybox"))
            #expect(busybox == (try Data(contentsOf: URL(fileURLWithPath: Prerequisites.which("busybox")!))))
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: layers[0] + "/bin/sh") == "busybox")
            // The unpacked busybox runs.
            let (_, output) = try ImageTestSupport.run([layers[0] + "/bin/busybox", "echo", "hello from the layer"])
            #expect(output.contains("hello from the layer"))
            // A second request reuses the unpacked layer.
            #expect(try await store.rootfsLayers(for: "docker.io/library/busybox:1").layers == layers)
        }
    }

    @Test func removeThenPruneDeletesOnlyUnusedContent() async throws {
        try await ImageTestSupport.withScratch { dir in
            let store = try Self.store(dir)
            try ImageTestSupport.write(["shared": "base"], under: dir + "/base")
            try ImageTestSupport.tar(dir + "/base", to: dir + "/base.tar")
            try ImageTestSupport.write(["other": "x"], under: dir + "/other")
            try ImageTestSupport.tar(dir + "/other", to: dir + "/other.tar")
            _ = try await store.importRootfs(tarball: dir + "/base.tar", name: "keep:1")
            _ = try await store.importRootfs(tarball: dir + "/other.tar", name: "drop:1")
            let kept = try await store.rootfsLayers(for: "keep:1").layers
            let dropped = try await store.rootfsLayers(for: "drop:1").layers
            try await store.remove("drop:1")
            await #expect(throws: CapstanError.self) { try await store.remove("drop:1") }
            let report = try await store.prune()
            #expect(report.layers.count == 1)
            #expect(report.blobs.count == 3)  // manifest, config, layer
            #expect(FileManager.default.fileExists(atPath: kept[0]))
            #expect(!FileManager.default.fileExists(atPath: dropped[0]))
            #expect(try await store.rootfsLayers(for: "keep:1").layers == kept)
            #expect(try await store.prune() == ImageStore.PruneReport())
        }
    }

    @Test func pruneKeepsLayersOfALiveLayerUserUntilItsDirectoryIsGone() async throws {
        try await ImageTestSupport.withScratch { dir in
            let store = try Self.store(dir)
            try ImageTestSupport.write(["file": "in use"], under: dir + "/tree")
            try ImageTestSupport.tar(dir + "/tree", to: dir + "/tree.tar")
            _ = try await store.importRootfs(tarball: dir + "/tree.tar", name: "used:1")
            let container = dir + "/containers/c1"
            try FileManager.default.createDirectory(atPath: container, withIntermediateDirectories: true)
            let layers = try await store.rootfsLayers(for: "used:1", user: LayerUser(name: "c1", directory: container)).layers
            #expect(try await store.layerUsers().map(\.name) == ["c1"])
            await #expect(throws: CapstanError.self) { try await store.releaseLayers(user: "../escape") }

            try await store.remove("used:1")
            // Another process's store (capstan image prune beside an agent) sees the record too.
            let other = try Self.store(dir)
            let report = try await other.prune()
            #expect(report.layers.isEmpty)
            #expect(report.blobs.count == 3)  // the removed image's blobs go; the unpacked layer stays
            #expect(FileManager.default.fileExists(atPath: layers[0] + "/file"))

            // While the directory is young the record holds; once it is gone and old, the record is stale.
            try FileManager.default.removeItem(atPath: container)
            #expect(try await other.layerUsers().map(\.name) == ["c1"])
            #expect(try await other.layerUsers(now: Date() + ImageStore.layerUserGrace + 1).isEmpty)
            #expect(try await other.prune().layers.count == 1)
            #expect(!FileManager.default.fileExists(atPath: layers[0]))
            try await store.releaseLayers(user: "c1")  // already gone: fine
        }
    }

    @Test func roundTripsThroughAnOCILayoutAndAnOCIArchive() async throws {
        try await ImageTestSupport.withScratch { dir in
            let store = try Self.store(dir)
            try ImageTestSupport.write(["etc/os-release": "capstan"], under: dir + "/root")
            try ImageTestSupport.tar(dir + "/root", to: dir + "/root.tar.gz", gzip: true)
            let original = try await store.importRootfs(tarball: dir + "/root.tar.gz", name: "app:1")
            try await store.exportOCILayout("app:1", to: dir + "/layout", tag: "v1")
            let other = try Self.store(dir + "/second")
            let fromLayout = try await other.importImage("oci:\(dir)/layout:v1", name: "copy:1")
            #expect(fromLayout.manifest == original.manifest)
            try ImageTestSupport.run(["tar", "-cf", dir + "/layout.tar", "-C", dir + "/layout", "."])
            let fromArchive = try await other.importImage("oci-archive:\(dir)/layout.tar:v1", name: "copy:2")
            #expect(fromArchive.manifest == original.manifest)
            let layers = try await other.rootfsLayers(for: "copy:2").layers
            #expect(try String(contentsOfFile: layers[0] + "/etc/os-release", encoding: .utf8) == "capstan")
            await #expect(throws: CapstanError.self) { try await other.importImage("oci:\(dir)/layout:nope", name: nil) }
        }
    }

    @Test func anImageImportedWithoutANameIsNamedAfterItsLayoutOrArchive() async throws {
        try await ImageTestSupport.withScratch { dir in
            let store = try Self.store(dir)
            try ImageTestSupport.write(["etc/os-release": "capstan"], under: dir + "/root")
            try ImageTestSupport.tar(dir + "/root", to: dir + "/root.tar.gz", gzip: true)
            _ = try await store.importRootfs(tarball: dir + "/root.tar.gz", name: "app:1")
            let other = try Self.store(dir + "/second")

            // A tag alone (skopeo's ref.name): the directory's name with that tag.
            try await store.exportOCILayout("app:1", to: dir + "/Web_Server", tag: "v1")
            #expect(try await other.importImage("oci:\(dir)/Web_Server", name: nil).name == "docker.io/library/web_server:v1")
            // A whole reference: that reference.
            try await store.exportOCILayout("app:1", to: dir + "/full", tag: "example.com/team/app:3")
            #expect(try await other.importImage("oci:\(dir)/full", name: nil).name == "example.com/team/app:3")
            // No ref.name at all: the directory's name, latest.
            let index = dir + "/Web_Server/index.json"
            let stripped = try String(contentsOfFile: index, encoding: .utf8)
                .replacingOccurrences(of: #""annotations":{"org.opencontainers.image.ref.name":"v1"},"#, with: "")
            #expect(!stripped.contains("ref.name"), "\(stripped)")
            try stripped.write(toFile: dir + "/plain-index.json", atomically: true, encoding: .utf8)
            try FileManager.default.copyItem(atPath: dir + "/Web_Server", toPath: dir + "/plain")
            try FileManager.default.removeItem(atPath: dir + "/plain/index.json")
            try FileManager.default.copyItem(atPath: dir + "/plain-index.json", toPath: dir + "/plain/index.json")
            #expect(try await other.importImage("oci:\(dir)/plain", name: nil).name == "docker.io/library/plain:latest")
            // An archive: its file's name without the extension.
            try ImageTestSupport.run(["tar", "-cf", dir + "/Nightly.Build.tar", "-C", dir + "/Web_Server", "."])
            #expect(try await other.importImage("oci-archive:\(dir)/Nightly.Build.tar", name: nil).name == "docker.io/library/nightly.build:v1")
            #expect(try await other.image(named: "web_server:v1") != nil)
        }
    }

    @Test func importNamesComeFromTheFileNameWhenRefNameIsATag() {
        #expect(ImportName.suggested(fileName: "/tmp/layouts/busybox", refName: nil) == "busybox")
        #expect(ImportName.suggested(fileName: "/tmp/busybox", refName: "1.36") == "busybox:1.36")
        #expect(ImportName.suggested(fileName: "/tmp/busybox", refName: "localhost/tools/bb:2") == "localhost/tools/bb:2")
        #expect(ImportName.suggested(fileName: "/tmp/My Image.tar.gz", refName: nil) == "my-image")
        #expect(ImportName.suggested(fileName: "/tmp/busybox", refName: "not a tag") == "busybox")
        #expect(ImportName.suggested(fileName: "/tmp/...", refName: nil) == nil)
    }

    @Test func importsADockerSaveArchiveWithTwoLayers() async throws {
        try await ImageTestSupport.withScratch { dir in
            let (one, two) = try LayerUnpackerTests.makeTwoLayers(in: dir)
            let archive = dir + "/save"
            try FileManager.default.createDirectory(atPath: archive + "/l1", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: archive + "/l2", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: one, toPath: archive + "/l1/layer.tar")
            try ImageTestSupport.run(["sh", "-c", "gzip -dc \(two) > \(archive)/l2/layer.tar"])
            let diffIDs = try [Digest.sha256(ofFile: archive + "/l1/layer.tar"), Digest.sha256(ofFile: archive + "/l2/layer.tar")]
            let config = ImageConfigFile(config: ImageConfig(entrypoint: ["/bin/app"], env: ["A=1"], workingDir: "/srv", user: "1000"), diffIDs: diffIDs)
            let configData = try JSONEncoder().encode(config)
            let configName = Digest.sha256(of: configData).encoded + ".json"
            try configData.write(to: URL(fileURLWithPath: archive + "/" + configName))
            try Data(#"[{"Config":"\#(configName)","RepoTags":["example.com/app:2"],"Layers":["l1/layer.tar","l2/layer.tar"]}]"#.utf8)
                .write(to: URL(fileURLWithPath: archive + "/manifest.json"))
            try ImageTestSupport.run(["tar", "-cf", dir + "/save.tar", "-C", archive, "."])
            let store = try Self.store(dir)
            let record = try await store.importImage("docker-archive:\(dir)/save.tar", name: nil)
            #expect(record.name == "example.com/app:2")
            let (layers, imageConfig) = try await store.rootfsLayers(for: "example.com/app:2")
            #expect(layers.count == 2)
            #expect(imageConfig == ImageConfig(entrypoint: ["/bin/app"], env: ["A=1"], workingDir: "/srv", user: "1000"))
            try FileManager.default.createDirectory(atPath: dir + "/flat", withIntermediateDirectories: true)
            try await store.flatten("example.com/app:2", into: dir + "/flat")
            #expect(try ImageTestSupport.tree(dir + "/flat") == LayerUnpackerTests.expectedTree)
        }
    }

    @Test func refusesAnArchiveLayerWhoseDiffIDDoesNotMatch() async throws {
        try await ImageTestSupport.withScratch { dir in
            try ImageTestSupport.write(["f": "x"], under: dir + "/l")
            try FileManager.default.createDirectory(atPath: dir + "/save", withIntermediateDirectories: true)
            try ImageTestSupport.tar(dir + "/l", to: dir + "/save/layer.tar")
            let wrong = Digest.sha256(of: Data("not the layer".utf8))
            let configData = try JSONEncoder().encode(ImageConfigFile(config: nil, diffIDs: [wrong]))
            try configData.write(to: URL(fileURLWithPath: dir + "/save/config.json"))
            try Data(#"[{"Config":"config.json","RepoTags":["bad:1"],"Layers":["layer.tar"]}]"#.utf8).write(to: URL(fileURLWithPath: dir + "/save/manifest.json"))
            try ImageTestSupport.run(["tar", "-cf", dir + "/save.tar", "-C", dir + "/save", "."])
            let error = await #expect(throws: CapstanError.self) { try await Self.store(dir).importImage("docker-archive:\(dir)/save.tar", name: nil) }
            #expect(error?.message.contains("diff ID") == true)
        }
    }
}
