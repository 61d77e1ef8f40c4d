public import CapstanCore
import struct Crypto.SHA256
import Foundation

extension Digest {
    /// The SHA-256 digest of `bytes`.
    public static func sha256(of bytes: some DataProtocol) -> Digest {
        let hex = Hex.encode(SHA256.hash(data: bytes))
        return try! Digest(algorithm: "sha256", encoded: hex)
    }

    /// The SHA-256 digest of the file at `path`, read in 1 MiB chunks. Blocking.
    public static func sha256(ofFile path: String) throws -> Digest {
        var hasher = DigestHasher()
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CapstanError(.notFound, "cannot open \(path) to compute its digest")
        }
        defer { try? handle.close() }
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
        return hasher.finalize()
    }
}

/// An incremental SHA-256 over streamed bytes.
public struct DigestHasher {
    private var hasher = SHA256()
    /// The number of bytes hashed so far.
    public private(set) var count: Int64 = 0

    public init() {}

    /// Adds `bytes`.
    public mutating func update(_ bytes: some DataProtocol) {
        hasher.update(data: bytes)
        count += Int64(bytes.count)
    }

    /// Adds the bytes at `pointer`.
    public mutating func update(_ pointer: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: pointer)
        count += Int64(pointer.count)
    }

    /// The digest of everything added.
    public func finalize() -> Digest {
        let hex = Hex.encode(hasher.finalize())
        return try! Digest(algorithm: "sha256", encoded: hex)
    }
}
