import CapstanCore
import CapstanImage
import Foundation
import Synchronization
import Testing

@Suite("LocalContentStore")
struct LocalContentStoreTests {
    @Test func storesBlobsUnderTheirDigest() async throws {
        try await ImageTestSupport.withScratch { dir in
            let store = try LocalContentStore(root: dir, logger: ImageTestSupport.logger)
            let digest = try await store.put(Data("hello".utf8))
            #expect(digest.description == "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
            #expect(FileManager.default.fileExists(atPath: dir + "/blobs/sha256/" + digest.encoded))
            #expect(try await store.read(digest) == Data("hello".utf8))
            #expect(try await store.list() == [digest])
            try await store.delete(digest)
            #expect(await store.contains(digest) == false)
        }
    }

    @Test func rejectsABlobWhoseBytesDoNotMatchItsDigest() async throws {
        try await ImageTestSupport.withScratch { dir in
            let store = try LocalContentStore(root: dir, logger: ImageTestSupport.logger)
            let claimed = Digest.sha256(of: Data("good".utf8))
            let error = await #expect(throws: CapstanError.self) {
                try await store.ingest(claimed, size: nil) { writer in try writer.write(Data("evil".utf8)) }
            }
            #expect(error?.message.contains("failed verification") == true)
            #expect(await store.contains(claimed) == false)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/ingest").isEmpty)
        }
    }

    @Test func interruptedWriteLeavesNothingTrusted() async throws {
        try await ImageTestSupport.withScratch { dir in
            let store = try LocalContentStore(root: dir, logger: ImageTestSupport.logger)
            let data = Data("complete".utf8)
            let digest = Digest.sha256(of: data)
            struct Interrupted: Error {}
            await #expect(throws: Interrupted.self) {
                try await store.ingest(digest, size: Int64(data.count)) { writer in
                    try writer.write(data.prefix(3))
                    throw Interrupted()
                }
            }
            #expect(await store.contains(digest) == false)
            // A crash mid-write leaves a file in ingest/ only; a fresh store never lists it, and prune removes it.
            FileManager.default.createFile(atPath: dir + "/ingest/\(digest.encoded).crashed", contents: data.prefix(3))
            let reopened = try LocalContentStore(root: dir, logger: ImageTestSupport.logger)
            #expect(try await reopened.list().isEmpty)
            await reopened.removeStaleIngests(olderThan: 0)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/ingest").isEmpty)
        }
    }

    @Test func concurrentIngestsOfOneBlobWriteItOnce() async throws {
        try await ImageTestSupport.withScratch { dir in
            let store = try LocalContentStore(root: dir, logger: ImageTestSupport.logger)
            let data = Data(repeating: 7, count: 1 << 20)
            let digest = Digest.sha256(of: data)
            let producers = Counter()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await store.ingest(digest, size: Int64(data.count)) { writer in
                            producers.increment()
                            try await Task.sleep(for: .milliseconds(50))
                            try writer.write(data)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(producers.value == 1)
            #expect(try await store.read(digest) == data)
        }
    }
}

/// A thread-safe counter for tests.
final class Counter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
