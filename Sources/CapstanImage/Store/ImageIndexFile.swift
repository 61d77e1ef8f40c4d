public import CapstanCore
import CapstanLinux
import Foundation

/// One named image in the store.
public struct ImageRecord: Codable, Hashable, Sendable {
    /// The normalized name, such as `docker.io/library/busybox:1` or `localhost/busybox:1`.
    public var name: String
    /// The digest of the single-platform manifest.
    public var manifest: Digest
    /// The digest of the index or manifest list it was selected from, if any.
    public var index: Digest?
    /// Where it came from (`docker://…`, `oci:…`, `import:PATH`).
    public var source: String
    /// When it was stored.
    public var created: Date

    public init(name: String, manifest: Digest, index: Digest? = nil, source: String, created: Date = Date()) {
        self.name = name
        self.manifest = manifest
        self.index = index
        self.source = source
        self.created = created
    }
}

/// The image index file, `<root>/images.json`: names to manifest digests. Rewritten with temp file, fsync, rename,
/// under an `flock` so that several Capstan processes sharing a work dir do not lose each other's updates.
struct ImageIndexFile {
    let path: String

    struct Contents: Codable {
        var images: [String: ImageRecord] = [:]
    }

    /// The index; empty when there is no file. One that is there but does not decode (torn, corrupted) is an error
    /// naming it: read as empty, every image's name would be lost and `prune` would delete their blobs.
    func read() throws -> Contents {
        guard let data = FileManager.default.contents(atPath: path) else { return Contents() }
        do { return try JSONDecoder().decode(Contents.self, from: data) } catch {
            throw CapstanError(
                .failedPrecondition,
                "Image index \(path) is \(data.isEmpty ? "empty" : "not whole (\(data.count) bytes; torn or corrupted)"); restore it, or remove it and pull or import the images again",
                cause: error)
        }
    }

    /// Runs `body` on the contents under an exclusive lock, writing them back if `body` changed them. The whole
    /// read-modify-write (flock, read, fsync, rename) runs on the bounded blocking pool: waiting for another process's
    /// lock never holds a thread of the cooperative pool.
    func update<T: Sendable>(_ body: @escaping @Sendable (inout Contents) throws -> T) async throws -> T {
        try await Blocking.run { try locked(body) }
    }

    private func locked<T>(_ body: (inout Contents) throws -> T) throws -> T {
        let lock = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw CapstanError.system("cannot open lock file \(path).lock", errno: errno) }
        defer { close(lock) }
        _ = try Syscall.check("cannot lock \(path).lock") { flock(lock, LOCK_EX) }
        defer { flock(lock, LOCK_UN) }
        var contents = try read()
        let before = try ImageJSON.encode(contents)
        let result = try body(&contents)
        let after = try ImageJSON.encode(contents)
        if before != after { try AtomicFile.write(after, to: path) }
        return result
    }
}
