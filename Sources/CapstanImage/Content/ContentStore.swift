public import CapstanCore
import CapstanLinux
public import Foundation

/// A content-addressed blob store: every blob is stored under its digest and only after its bytes were checked.
///
/// Contract:
/// - `ingest` and `importFile` are idempotent: storing a blob that is already there does nothing more.
/// - A blob is visible (through `contains`, `path` and `read`) only once complete and digest-verified;
///   an interrupted write leaves only a temporary file that the store ignores and removes later.
/// - Concurrent `ingest` calls for one digest run the writer once; the others wait for it.
public protocol ContentStore: Sendable {
    /// The size of the blob if it is stored.
    func size(of digest: Digest) async -> Int64?
    /// The blob's bytes; throws `notFound` when it is not stored.
    func read(_ digest: Digest) async throws -> Data
    /// The path of a stored blob, for readers that stream it (layer unpacking); throws `notFound`.
    func path(of digest: Digest) async throws -> String
    /// Stores `data`, returning its digest.
    @discardableResult func put(_ data: Data) async throws -> Digest
    /// Stores the blob `expected` by letting `produce` write it; verifies size (when given) and digest.
    func ingest(_ expected: Digest, size: Int64?, produce: @escaping @Sendable (BlobWriter) async throws -> Void) async throws
    /// Copies the file at `path` into the store, verifying it against `expected` when given; returns its digest.
    @discardableResult func importFile(at path: String, expected: Digest?) async throws -> Digest
    /// Every stored digest.
    func list() async throws -> [Digest]
    /// Removes a blob; removing a missing blob is not an error.
    func delete(_ digest: Digest) async throws
}

extension ContentStore {
    /// Whether the blob is stored.
    public func contains(_ digest: Digest) async -> Bool { await size(of: digest) != nil }
}

/// Receives one blob's bytes, hashing them as they are written to a temporary file.
public final class BlobWriter: @unchecked Sendable {
    let fd: Int32
    let temporaryPath: String
    private(set) var hasher = DigestHasher()

    init(temporaryPath: String) throws {
        self.temporaryPath = temporaryPath
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CapstanError.system("cannot create \(temporaryPath)", errno: errno)
        }
    }

    deinit { close(fd) }

    /// The number of bytes written so far.
    public var count: Int64 { hasher.count }

    /// Appends `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bytes)
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw CapstanError.system("cannot write \(temporaryPath)", errno: errno)
            }
            offset += n
        }
    }

    /// Appends `data`.
    public func write(_ data: Data) throws {
        try data.withUnsafeBytes { try write($0) }
    }

    /// Throws away what was written, for a producer that restarts a download.
    public func reset() throws {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw CapstanError.system("cannot truncate \(temporaryPath)", errno: errno)
        }
        hasher = DigestHasher()
    }

    func sync() throws {
        guard fsync(fd) == 0 else { throw CapstanError.system("cannot fsync \(temporaryPath)", errno: errno) }
    }
}
