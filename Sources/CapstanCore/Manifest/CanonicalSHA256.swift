import Crypto

/// SHA-256 of a canonical encoding, as lowercase hex: the stable spec hash (swift-crypto).
enum CanonicalSHA256 {
    static func hex(_ message: [UInt8]) -> String {
        Hex.encode(SHA256.hash(data: message))
    }
}
