import CapstanCore
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
}
