public import CapstanCore
import Foundation

/// How far an image may expand when its layers are unpacked: a hostile layer of a few megabytes of gzip can
/// decompress to terabytes. Counted in decompressed tar bytes (entry headers included) and in the sizes the entries
/// declare (a sparse file counts at its full size), whichever is larger.
public struct LayerLimits: Sendable, Equatable {
    /// The most one layer may expand to (`--max-layer-size`).
    public var maxLayerSize: Int64
    /// The most all the layers of one image may expand to together (`--max-image-size`).
    public var maxImageSize: Int64

    /// 8 GiB: above the largest layers of common images (CUDA and ML framework images reach 5–7 GiB).
    public static let defaultMaxLayerSize: Int64 = 8 << 30
    /// 32 GiB.
    public static let defaultMaxImageSize: Int64 = 32 << 30

    public init(maxLayerSize: Int64 = Self.defaultMaxLayerSize, maxImageSize: Int64 = Self.defaultMaxImageSize) {
        self.maxLayerSize = maxLayerSize
        self.maxImageSize = maxImageSize
    }

    /// A byte count as `--max-layer-size` takes it back: `8 GiB`, `512 MiB`, `100 B`.
    public static func describe(_ bytes: Int64) -> String {
        for (unit, shift) in [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)] where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift) \(unit)"
        }
        return "\(bytes) B"
    }

    /// Parses `SIZE`: a number of bytes with an optional unit, binary (`K`/`KiB`, `M`/`MiB`, `G`/`GiB`, `T`/`TiB`,
    /// case-insensitive, `B` optional). Throws `invalidArgument` naming the text for anything else, zero included.
    public static func parseSize(_ text: String) throws -> Int64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        var unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        if unit.hasSuffix("ib") { unit.removeLast(2) } else if unit.count > 1, unit.hasSuffix("b") { unit.removeLast() }
        let shifts: [String: Int64] = ["": 0, "b": 0, "k": 10, "m": 20, "g": 30, "t": 40]
        guard let value = Int64(digits), value > 0, let shift = shifts[unit], value <= Int64.max >> shift else {
            throw CapstanError(.invalidArgument, "'\(text)' is not a size; give bytes or a number with K, M, G or T (binary units), e.g. 4G")
        }
        return value << shift
    }
}
