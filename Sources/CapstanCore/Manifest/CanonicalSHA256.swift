import Crypto

/// SHA-256 of a canonical encoding, as lowercase hex: the stable spec hash (swift-crypto).
enum CanonicalSHA256 {
    static func hex(_ message: [UInt8]) -> String {
        let table = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in SHA256.hash(data: message) {
            out.append(table[Int(byte >> 4)])
            out.append(table[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
