public import CapstanCore
import CapstanLinux
public import Foundation
public import Logging

/// The on-disk content store: `<root>/blobs/sha256/<hex>`, written through `<root>/ingest/` (temporary file,
/// fsync, digest check, rename, directory fsync), so a crash never leaves a blob that later runs trust.
public actor LocalContentStore: ContentStore {
    /// The store's root directory.
    public nonisolated let root: String
    private let logger: Logger
    private var inflight: [Digest: Task<Void, any Error>] = [:]
    private var durableWriteProbe: DurableWriteProbe?

    /// Opens (creating when needed) the store at `root`, removing temporary files left by interrupted writes.
    public init(root: String, logger: Logger) throws {
        self.root = root
        self.logger = logger
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/blobs/sha256", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/ingest", withIntermediateDirectories: true)
    }

    /// Removes temporary ingest files older than `age`; those of a concurrent writer in another process are younger.
    public func removeStaleIngests(olderThan age: TimeInterval = 3600) {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: root + "/ingest") else { return }
        for name in names {
            let path = root + "/ingest/" + name
            let modified = (try? fm.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? .distantPast
            if Date().timeIntervalSince(modified) > age {
                try? fm.removeItem(atPath: path)
                logger.debug("removed stale ingest file", metadata: ["path": "\(path)"])
            }
        }
    }

    nonisolated func blobPath(_ digest: Digest) -> String { "\(root)/blobs/\(digest.algorithm)/\(digest.encoded)" }

    public func size(of digest: Digest) -> Int64? {
        var st = stat()
        guard stat(blobPath(digest), &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(st.st_size)
    }

    /// The blob's bytes, checked against its digest: blobs are written durably, so a mismatch is a file damaged or
    /// replaced since, reported with its path rather than decoded. (Layers are read through ``path(of:)`` and checked
    /// against their diff IDs as they are unpacked.)
    public func read(_ digest: Digest) throws -> Data {
        let path = blobPath(digest)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CapstanError(.notFound, "blob \(digest) is not in the content store at \(root)")
        }
        let actual = Digest.sha256(of: data)
        guard actual == digest else {
            throw CapstanError(
                .failedPrecondition,
                "Blob \(path) does not match its digest (\(data.count) bytes with digest \(actual); torn or corrupted); remove it and pull or import the image again")
        }
        return data
    }

    public func path(of digest: Digest) throws -> String {
        guard size(of: digest) != nil else { throw CapstanError(.notFound, "blob \(digest) is not in the content store at \(root)") }
        return blobPath(digest)
    }

    @discardableResult
    public func put(_ data: Data) async throws -> Digest {
        let digest = Digest.sha256(of: data)
        try await ingest(digest, size: Int64(data.count)) { writer in try writer.write(data) }
        return digest
    }

    public func ingest(_ expected: Digest, size: Int64?, produce: @escaping @Sendable (BlobWriter) async throws -> Void) async throws {
        if self.size(of: expected) != nil { return }
        if let running = inflight[expected] {
            try await running.value
            return
        }
        let task = Task { try await self.write(expected, size: size, produce: produce) }
        inflight[expected] = task
        defer { inflight[expected] = nil }
        try await task.value
    }

    private func write(_ expected: Digest, size: Int64?, produce: @escaping @Sendable (BlobWriter) async throws -> Void) async throws {
        guard expected.algorithm == "sha256" else {
            throw CapstanError(.unsupported, "blob \(expected) uses \(expected.algorithm); only sha256 content is stored")
        }
        let temporary = "\(root)/ingest/\(expected.encoded).\(UUID().uuidString)"
        let writer = try BlobWriter(temporaryPath: temporary)
        do {
            try await produce(writer)
            if let size, writer.count != size {
                throw CapstanError(.failedPrecondition, "blob \(expected) has \(writer.count) bytes, expected \(size)")
            }
            let actual = writer.hasher.finalize()
            guard actual == expected else {
                throw CapstanError(.failedPrecondition, "blob \(expected) failed verification: its content has digest \(actual)")
            }
            let probe = durableWriteProbe
            try await Blocking.run {
                probe?(self.blobPath(expected))
                try self.commit(writer, as: expected)
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Fsyncs a verified temporary file, renames it into place and fsyncs the directory. Blocking: runs on
    /// ``Blocking``'s pool.
    private nonisolated func commit(_ writer: BlobWriter, as digest: Digest) throws {
        try writer.sync()
        let temporary = writer.temporaryPath, destination = blobPath(digest)
        guard rename(temporary, destination) == 0 else {
            throw CapstanError.system("cannot rename \(temporary) to \(destination)", errno: errno)
        }
        let dir = open("\(root)/blobs/\(digest.algorithm)", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
        logger.debug("stored blob", metadata: ["digest": "\(digest)"])
    }

    @discardableResult
    public func importFile(at path: String, expected: Digest?) async throws -> Digest {
        if let expected, size(of: expected) != nil { return expected }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CapstanError(.notFound, "cannot open \(path) to import it into the content store")
        }
        defer { try? handle.close() }
        let digest: Digest
        if let expected { digest = expected } else { digest = try Digest.sha256(ofFile: path) }
        try await ingest(digest, size: nil) { writer in
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { try writer.write(chunk) }
        }
        return digest
    }

    public func list() throws -> [Digest] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root + "/blobs/sha256")) ?? []
        return names.compactMap { try? Digest(algorithm: "sha256", encoded: $0) }.sorted()
    }

    /// Sets the test seam called before each blob is made durable.
    func setDurableWriteProbe(_ probe: DurableWriteProbe?) { durableWriteProbe = probe }

    public func delete(_ digest: Digest) throws {
        if unlink(blobPath(digest)) != 0 && errno != ENOENT {
            throw CapstanError.system("cannot remove blob \(digest)", errno: errno)
        }
    }
}
