import CLibArchive
public import CapstanCore
import Foundation

/// The decompressed bytes of one layer file, handed out in chunks and hashed as they go.
final class DecompressedStream {
    let path: String
    let archive: OpaquePointer
    let buffer: UnsafeMutableRawBufferPointer
    var hasher = DigestHasher()
    /// The most decompressed bytes handed out; past it, `next` fails with ``tooLarge`` set.
    let limit: Int64
    var count: Int64 = 0
    var failure: String?
    var tooLarge = false
    var finished = false

    init(path: String, limit: Int64) throws {
        self.path = path
        self.limit = limit
        guard let archive = archive_read_new() else { throw CapstanError(.internal, "libarchive could not allocate a reader") }
        self.archive = archive
        buffer = .allocate(byteCount: 1 << 20, alignment: 16)
        archive_read_support_filter_all(archive)
        archive_read_support_format_raw(archive)
        guard archive_read_open_filename(archive, path, 1 << 20) == ARCHIVE_OK else {
            let text = LayerUnpacker.errorText(archive)
            archive_read_free(archive)
            buffer.deallocate()
            throw CapstanError(.invalidArgument, "cannot read layer \(path): \(text)")
        }
        var entry: OpaquePointer?
        let status = archive_read_next_header(archive, &entry)
        if status == ARCHIVE_EOF {
            finished = true
        } else if status < ARCHIVE_WARN {
            let text = LayerUnpacker.errorText(archive)
            archive_read_free(archive)
            buffer.deallocate()
            throw CapstanError(.invalidArgument, "cannot decompress layer \(path): \(text)")
        }
    }

    deinit {
        archive_read_free(archive)
        buffer.deallocate()
    }

    /// The next chunk for the tar reader: its length, 0 at the end, -1 on a decompression error.
    func next(_ out: UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int {
        guard !finished else { return 0 }
        let n = archive_read_data(archive, buffer.baseAddress, buffer.count)
        if n < 0 {
            failure = LayerUnpacker.errorText(archive)
            return -1
        }
        if n == 0 {
            finished = true
            return 0
        }
        count += Int64(n)
        if count > limit {
            tooLarge = true
            failure = "it expands to more than \(LayerLimits.describe(limit)), the most a layer may (--max-layer-size)"
            return -1
        }
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        out?.pointee = UnsafeRawPointer(buffer.baseAddress)
        return n
    }

    /// Reads (and hashes) what the tar reader left, such as the padding after the end-of-archive blocks; returns the digest.
    func drain() throws -> Digest {
        while !finished {
            if next(nil) < 0 { throw error(failure ?? "unknown error") }
        }
        return hasher.finalize()
    }

    /// The error for `failure`: the size limit, or a decompression error.
    func error(_ failure: String) -> CapstanError {
        if tooLarge { return CapstanError(.invalidArgument, "refusing layer \(path): \(failure)") }
        return CapstanError(.invalidArgument, "cannot decompress layer \(path): \(failure)")
    }
}
