import CapstanCore
@testable import CapstanImage
import CapstanLinux
import Foundation
import Synchronization
import Testing

/// Every durable write of the image store (fsync, `AtomicFile`) runs on `Blocking`'s pool, not on the cooperative
/// pool whose few threads the actors need: each write's probe records whether its thread was in a `Blocking.run`.
@Suite("DurableWrite")
struct DurableWriteTests {
    /// The paths the probe saw, each with whether it ran on the blocking pool.
    final class Writes: Sendable {
        private let seen = Mutex<[String: Bool]>([:])
        var probe: DurableWriteProbe { { path in self.seen.withLock { $0[path] = Blocking.isOnPool } } }
        var all: [String: Bool] { seen.withLock { $0 } }
    }

    @Test func isOnPoolIsTrueOnlyInsideBlockingRun() async throws {
        #expect(!Blocking.isOnPool)
        #expect(try await Blocking.run { Blocking.isOnPool })
        #expect(!Blocking.isOnPool)
    }

    @Test func blobsAreMadeDurableOnTheBlockingPool() async throws {
        try await ImageTestSupport.withScratch { dir in
            let store = try LocalContentStore(root: dir, logger: ImageTestSupport.logger)
            let writes = Writes()
            await store.setDurableWriteProbe(writes.probe)
            let put = try await store.put(Data("durable".utf8))
            FileManager.default.createFile(atPath: dir + "/source", contents: Data("imported".utf8))
            let imported = try await store.importFile(at: dir + "/source", expected: nil)
            #expect(writes.all == [dir + "/blobs/sha256/" + put.encoded: true, dir + "/blobs/sha256/" + imported.encoded: true])
            #expect(try await store.read(imported) == Data("imported".utf8))
        }
    }

    @Test func layerUserRecordsAndOCILayoutsAreWrittenOnTheBlockingPool() async throws {
        try await ImageTestSupport.withScratch { dir in
            let store = try ImageStore(root: dir + "/images", logger: ImageTestSupport.logger)
            try ImageTestSupport.write(["file": "content"], under: dir + "/tree")
            try ImageTestSupport.tar(dir + "/tree", to: dir + "/tree.tar")
            _ = try await store.importRootfs(tarball: dir + "/tree.tar", name: "app:1")
            let writes = Writes()
            await store.setDurableWriteProbe(writes.probe)

            let container = dir + "/containers/c1"
            _ = try await store.rootfsLayers(for: "app:1", user: LayerUser(name: "c1", directory: container))
            try await store.exportOCILayout("app:1", to: dir + "/layout", tag: "v1")
            #expect(writes.all == [
                dir + "/images/users/c1.json": true, dir + "/layout/index.json": true, dir + "/layout/oci-layout": true,
            ])
            #expect(try await store.layerUsers().map(\.name) == ["c1"])
            #expect(FileManager.default.fileExists(atPath: dir + "/layout/oci-layout"))
        }
    }
}
