/// Tar-aware edits for the layer target: header fields set to hostile values, whole entries inserted, and
/// header checksums made right again so the reader gets past them to the unpacker's own checks.
enum TarHeaders {
    static let blockSize = 512

    /// Offsets of the blocks that carry the ustar magic.
    static func headers(in bytes: [UInt8]) -> [Int] {
        stride(from: 0, to: max(0, bytes.count - blockSize + 1), by: blockSize).filter { offset in
            bytes[(offset + 257)..<(offset + 262)].elementsEqual("ustar".utf8)
        }
    }

    /// Recomputes the checksum of every ustar header, as a reader expects it (`%06o\0 `).
    static func fixChecksums(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        for offset in headers(in: bytes) {
            for i in 148..<156 { bytes[offset + i] = UInt8(ascii: " ") }
            let sum = bytes[offset..<(offset + blockSize)].reduce(0) { $0 + Int($1) }
            let digits = Array(String(sum, radix: 8).utf8)
            let field = Array(repeating: UInt8(ascii: "0"), count: max(0, 6 - digits.count)) + digits.suffix(6) + [0, UInt8(ascii: " ")]
            bytes.replaceSubrange((offset + 148)..<(offset + 156), with: field)
        }
        return bytes
    }

    /// A header block for an entry with no data.
    static func header(name: [UInt8], type: UInt8, link: [UInt8], mode: [UInt8] = Array("0000755".utf8)) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockSize)
        write(name, at: 0, width: 100, in: &block)
        write(mode, at: 100, width: 8, in: &block)
        write(Array("0000000".utf8), at: 108, width: 8, in: &block)
        write(Array("0000000".utf8), at: 116, width: 8, in: &block)
        write(Array("00000000000".utf8), at: 124, width: 12, in: &block)
        write(Array("00000000000".utf8), at: 136, width: 12, in: &block)
        block[156] = type
        write(link, at: 157, width: 100, in: &block)
        write(Array("ustar\u{0}00".utf8), at: 257, width: 8, in: &block)
        return block
    }

    static func write(_ value: [UInt8], at offset: Int, width: Int, in block: inout [UInt8]) {
        let clipped = Array(value.prefix(width)) + Array(repeating: 0, count: max(0, width - value.count))
        block.replaceSubrange(offset..<(offset + width), with: clipped)
    }

    static let names = tokens([
        "../escape", "../../../../../../../../tmp/capstan-fuzz-escape", "/tmp/capstan-fuzz-escape", "a/../../escape",
        "link/capstan-fuzz-escape", "up/escape", "up/up/escape", "dir/", "dir/file", "./dir/../file", ".", "..", "",
        "file", ".wh.file", "dir/.wh..wh..opq", ".wh..wh..opq", ".wh.", ".wh...", "dir/.wh.file", "a//b", "/", "//",
        "x/.wh.../..", "hl", "tmp/capstan-fuzz-sentinel/victim", "\u{1}", "très", String(repeating: "d/", count: 49) + "f",
    ])
    static let links = tokens([
        "/tmp", "..", "../..", "/", "/tmp/capstan-fuzz-escape", "/tmp/capstan-fuzz-sentinel/victim",
        "../../../../../../../../tmp/capstan-fuzz-sentinel/victim", "file", "dir", "link", "up", "missing", "hl", ".",
    ])
    static let types: [UInt8] = Array("0123456789gxLKSV\u{0}".utf8)
    static let sizes = tokens(["00000000000", "00000000001", "00000001000", "77777777777", "99999999999", "-1", "\u{80}"])
    static let modes = tokens(["0000000", "0007777", "0004755", "0002755", "7777777", "0000644", "9"])

    /// One tar-aware mutation; false when the input holds no header to work on.
    static func mutate(_ input: inout [UInt8], using random: inout SplitMix64) -> Bool {
        let found = headers(in: input)
        func pick(_ list: [[UInt8]]) -> [UInt8] { list[random.below(list.count)] }
        switch random.below(4) {
        case 0 where !found.isEmpty:  // a hostile field in an existing header
            let offset = found[random.below(found.count)]
            var block = Array(input[offset..<(offset + blockSize)])
            switch random.below(6) {
            case 0: write(pick(names), at: 0, width: 100, in: &block)
            case 1: write(pick(links), at: 157, width: 100, in: &block)
            case 2: block[156] = types[random.below(types.count)]
            case 3: write(pick(sizes), at: 124, width: 12, in: &block)
            case 4: write(pick(modes), at: 100, width: 8, in: &block)
            default: write(pick(names), at: 345, width: 155, in: &block)
            }
            input.replaceSubrange(offset..<(offset + blockSize), with: block)
        case 1, 2:  // a new entry before a header (or at the end)
            let entry = header(name: pick(names), type: types[random.below(types.count)], link: pick(links))
            let at = found.isEmpty ? (input.count / blockSize) * blockSize : found[random.below(found.count)]
            input.insert(contentsOf: entry, at: min(at, input.count))
        default:  // a whole entry repeated
            guard !found.isEmpty else { return false }
            let offset = found[random.below(found.count)]
            input.insert(contentsOf: input[offset..<(offset + blockSize)], at: offset)
        }
        return true
    }
}
