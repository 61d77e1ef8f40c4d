import CLibArchive
public import CapstanCore
import Foundation

extension LayerUnpacker {
    /// Unpacks the (plain, gzip or zstd) layer at `archivePath` into `directory` and returns the SHA-256 of its
    /// decompressed bytes (the diff ID) from the same pass: one libarchive reader decompresses, every byte is hashed,
    /// and a second reader parses the tar stream from those bytes. Blocking. The caller compares the digest with the
    /// image config's and throws the directory away on a mismatch.
    public func unpackVerifying(archive archivePath: String, into directory: String, whiteouts mode: WhiteoutMode) throws -> (summary: Summary, diffID: Digest) {
        let source = try DecompressedStream(path: archivePath, limit: maxLayerSize)
        let archive = try Self.tarReader(over: source, archivePath: archivePath)
        defer { archive_read_free(archive) }
        let summary: Summary
        do {
            summary = try unpack(reader: archive, archivePath: archivePath, into: directory, whiteouts: mode)
        } catch {
            if let failure = source.failure { throw source.error(failure) }
            throw error
        }
        let diffID = try source.drain()
        return (summary, diffID)
    }

    /// A libarchive tar reader over `source` (the decompressed layer, hashed on the way); the caller frees it.
    static func tarReader(over source: DecompressedStream, archivePath: String) throws -> OpaquePointer {
        guard let archive = archive_read_new() else { throw CapstanError(.internal, "libarchive could not allocate a reader") }
        archive_read_support_format_tar(archive)
        archive_read_support_format_empty(archive)
        let context = Unmanaged.passUnretained(source).toOpaque()
        let opened = archive_read_open(archive, context, nil, { _, context, buffer in
            Unmanaged<DecompressedStream>.fromOpaque(context!).takeUnretainedValue().next(buffer)
        }, nil)
        guard opened == ARCHIVE_OK else {
            let text = source.failure ?? errorText(archive)
            archive_read_free(archive)
            throw CapstanError(.invalidArgument, "cannot read layer \(archivePath): \(text)")
        }
        return archive
    }
}
