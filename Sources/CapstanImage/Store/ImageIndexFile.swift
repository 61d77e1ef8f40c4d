public import CapstanCore
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

    func read() throws -> Contents {
        guard let data = FileManager.default.contents(atPath: path) else { return Contents() }
        return try ImageJSON.decode(Contents.self, from: data, what: "image index \(path)")
    }

    /// Runs `body` on the contents under an exclusive lock, writing them back if `body` changed them.
    func update<T>(_ body: (inout Contents) throws -> T) throws -> T {
        let lock = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw CapstanError(.internal, "cannot open lock file \(path).lock: \(Errno.text)") }
        defer { close(lock) }
        flock(lock, LOCK_EX)
        defer { flock(lock, LOCK_UN) }
        var contents = try read()
        let before = try ImageJSON.encode(contents)
        let result = try body(&contents)
        let after = try ImageJSON.encode(contents)
        if before != after { try AtomicFile.write(after, to: path) }
        return result
    }
}

/// Writes a whole file atomically: temporary file, fsync, rename, directory fsync.
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp-\(UUID().uuidString)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CapstanError(.internal, "cannot create \(temporary): \(Errno.text)") }
        let ok = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return fsync(fd) == 0
        }
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            let reason = Errno.text
            unlink(temporary)
            throw CapstanError(.internal, "cannot write \(path): \(reason)")
        }
        let dir = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 { fsync(dir); close(dir) }
    }
}
