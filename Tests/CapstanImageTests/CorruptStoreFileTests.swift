import CapstanCore
import CapstanTestSupport
@testable import CapstanImage
import Foundation
import Testing

/// Image-store files that a restart reads back: one that is there but torn or corrupted is refused with its path,
/// never read as absent (docs/crash-safety.md).
@Suite("Corrupt image-store files")
struct CorruptStoreFileTests {
    @Test func pruneRefusesATornLayerUserRecordAndNamesIt() async throws {
        try await ImageTestSupport.withScratch { dir in
            let store = try ImageStore(root: dir, logger: ImageTestSupport.logger)
            try await store.recordUser(LayerUser(name: "c1", directory: dir))
            let path = dir + "/users/c1.json"
            let whole = try #require(FileManager.default.contents(atPath: path))
            try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: path))
            do {
                _ = try await store.prune()
                Issue.record("prune ran past a torn layer-user record")
            } catch let error as CapstanError {
                #expect(error.message.contains("Layer user record \(path) is not whole"), "\(error)")
                #expect(error.code == .failedPrecondition)
            }
            #expect(FileManager.default.fileExists(atPath: path), "the record is left for a person to look at")
        }
    }

    @Test func aBlobThatNoLongerMatchesItsDigestIsRefusedWithItsPath() async throws {
        try await ImageTestSupport.withScratch { dir in
            let content = try LocalContentStore(root: dir, logger: ImageTestSupport.logger)
            let digest = try await content.put(Data(#"{"schemaVersion":2}"#.utf8))
            let path = content.blobPath(digest)
            chmod(path, 0o644)
            try Data(#"{"schemaVer"#.utf8).write(to: URL(fileURLWithPath: path))
            do {
                _ = try await content.read(digest)
                Issue.record("a torn blob was read")
            } catch let error as CapstanError {
                #expect(error.message.contains("Blob \(path) does not match its digest"), "\(error)")
            }
        }
    }

    @Test func imageLsRefusesATornImageIndexAndACorruptManifestBlobNamingEach() async throws {
        try await ImageTestSupport.withScratch { dir in
            let (work, images) = try ImageListCommandTests.importOneImage(in: dir)
            let manifest = try #require(images.first?["manifest"] as? String)

            let blob = work + "/images/content/blobs/sha256/" + manifest.dropFirst("sha256:".count)
            let wholeBlob = try #require(FileManager.default.contents(atPath: blob), "no blob at \(blob)")
            chmod(blob, 0o644)
            try wholeBlob.prefix(wholeBlob.count / 2).write(to: URL(fileURLWithPath: blob))
            let refusedBlob = try ImageTestSupport.run([CapstanBinary.path, "image", "ls", "--work-dir", work], allowFailure: true)
            #expect(refusedBlob.status != 0)
            #expect(refusedBlob.output.contains("Blob \(blob) does not match its digest"), "\(refusedBlob.output)")
            let refusedPrune = try ImageTestSupport.run([CapstanBinary.path, "image", "prune", "--work-dir", work], allowFailure: true)
            #expect(refusedPrune.status != 0, "prune does not guess which layers an image with a damaged manifest needs")
            #expect(refusedPrune.output.contains("Prune stopped at image docker.io/library/app:1: Blob \(blob)"), "\(refusedPrune.output)")
            try wholeBlob.write(to: URL(fileURLWithPath: blob))

            let index = work + "/images/images.json"
            let wholeIndex = try #require(FileManager.default.contents(atPath: index), "no image index at \(index)")
            try wholeIndex.prefix(wholeIndex.count / 2).write(to: URL(fileURLWithPath: index))
            let refusedIndex = try ImageTestSupport.run([CapstanBinary.path, "image", "ls", "--work-dir", work], allowFailure: true)
            #expect(refusedIndex.status != 0)
            #expect(refusedIndex.output.contains("Image index \(index) is not whole"), "\(refusedIndex.output)")
        }
    }
}
