import CLibArchive
public import CapstanCore
import Foundation

extension LayerUnpacker {
    /// Unpacks the (plain, gzip or zstd) layer at `archivePath` into `directory` and returns the SHA-256 of its
    /// decompressed bytes (the diff ID) from the same pass: one libarchive reader decompresses, every byte is hashed,
    /// and a second reader parses the tar stream from those bytes. Blocking. The caller compares the digest with the
    /// image config's and throws the directory away on a mismatch.
    public func unpackVerifying(archive archivePath: String, into directory: String, whiteouts mode: WhiteoutMode) throws -> (summary: Summary, diffID: Digest) {
        let source = try DecompressedStream(path: archivePath)
        guard let archive = archive_read_new() else { throw CapstanError(.internal, "libarchive could not allocate a reader") }
        defer { archive_read_free(archive) }
        archive_read_support_format_tar(archive)
        archive_read_support_format_empty(archive)
        let context = Unmanaged.passUnretained(source).toOpaque()
        let opened = archive_read_open(archive, context, nil, { _, context, buffer in
            let source = Unmanaged<DecompressedStream>.fromOpaque(context!).takeUnretainedValue()
            return source.next(buffer)
        }, nil)
        guard opened == ARCHIVE_OK else {
            throw CapstanError(.invalidArgument, "cannot read layer \(archivePath): \(source.failure ?? Self.errorText(archive))")
        }
        let summary: Summary
        do {
            summary = try unpack(reader: archive, archivePath: archivePath, into: directory, whiteouts: mode)
        } catch {
            if let failure = source.failure { throw CapstanError(.invalidArgument, "cannot decompress layer \(archivePath): \(failure)") }
            throw error
        }
        let diffID = try source.drain()
        return (summary, diffID)
    }
}

/// The decompressed bytes of one layer file, handed out in chunks and hashed as they go.
private final class DecompressedStream {
    let path: String
    let archive: OpaquePointer
    let buffer: UnsafeMutableRawBufferPointer
    var hasher = DigestHasher()
    var failure: String?
    var finished = false

    init(path: String) throws {
        self.path = path
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
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        out?.pointee = UnsafeRawPointer(buffer.baseAddress)
        return n
    }

    /// Reads (and hashes) what the tar reader left, such as the padding after the end-of-archive blocks; returns the digest.
    func drain() throws -> Digest {
        while !finished {
            if next(nil) < 0 { throw CapstanError(.invalidArgument, "cannot decompress layer \(path): \(failure ?? "unknown error")") }
        }
        return hasher.finalize()
    }
}
