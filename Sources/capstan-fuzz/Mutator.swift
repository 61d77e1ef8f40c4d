/// Makes inputs from a corpus by stacking random mutations (bit flips, byte changes, insertions and
/// deletions, dictionary tokens, long repeats, splices of two corpus entries) on a corpus entry.
struct Mutator {
    let corpus: [[UInt8]]
    let dictionary: [[UInt8]]
    let maximumLength: Int

    private static let interestingBytes: [UInt8] = [0, 0x01, 0x7F, 0x80, 0xFF, 0x0A, 0x0D, 0x09, 0x20, 0x22, 0x27, 0x5C]
    private static let interestingNumbers = tokens([
        "0", "-1", "1", "255", "65535", "2147483647", "2147483648", "-2147483649", "4294967296", "9223372036854775807",
        "9223372036854775808", "-9223372036854775809", "99999999999999999999999", "1e308", "1e309", "-1e309", "1e-400",
        "0.1", "NaN", ".nan", ".inf", "-.inf", "1.7976931348623157e308", "0x7fffffff", "077777777777",
    ])

    func next(using random: inout SplitMix64, target: any FuzzTarget) -> [UInt8] {
        if random.oneIn(64) {  // now and then, noise
            return (0..<random.below(256)).map { _ in UInt8.random(in: 0...255, using: &random) }
        }
        var input = corpus.isEmpty ? [] : corpus[random.below(corpus.count)]
        for _ in 0..<(1 + random.below(6)) {
            if random.oneIn(3), target.mutate(&input, using: &random) { continue }
            mutate(&input, using: &random)
        }
        if input.count > maximumLength { input.removeLast(input.count - maximumLength) }
        return input
    }

    private func mutate(_ input: inout [UInt8], using random: inout SplitMix64) {
        func position(inclusive: Bool = false) -> Int { random.below(input.count + (inclusive ? 1 : 0)) }
        switch random.below(11) {
        case 0 where !input.isEmpty:  // flip a bit
            input[position()] ^= 1 << UInt8(random.below(8))
        case 1 where !input.isEmpty:  // any byte
            input[position()] = UInt8.random(in: 0...255, using: &random)
        case 2 where !input.isEmpty:  // an interesting byte
            input[position()] = Self.interestingBytes[random.below(Self.interestingBytes.count)]
        case 3 where !input.isEmpty:  // delete a run
            let start = position()
            input.removeSubrange(start..<min(input.count, start + 1 + random.below(32)))
        case 4:  // insert random bytes
            let bytes = (0..<(1 + random.below(16))).map { _ in UInt8.random(in: 0...255, using: &random) }
            input.insert(contentsOf: bytes, at: position(inclusive: true))
        case 5...6 where !dictionary.isEmpty:  // a token, inserted or written over
            let token = dictionary[random.below(dictionary.count)]
            let at = position(inclusive: true)
            if random.oneIn(2) || at + token.count > input.count {
                input.insert(contentsOf: token, at: at)
            } else {
                input.replaceSubrange(at..<(at + token.count), with: token)
            }
        case 7:  // a number where a number might go
            let number = Self.interestingNumbers[random.below(Self.interestingNumbers.count)]
            input.insert(contentsOf: number, at: position(inclusive: true))
        case 8 where !input.isEmpty:  // copy a run elsewhere
            let start = position()
            let run = Array(input[start..<min(input.count, start + 1 + random.below(64))])
            input.insert(contentsOf: run, at: position(inclusive: true))
        case 9:  // repeat a token or a short run many times (deep nesting, huge lists)
            let unit: [UInt8]
            if !dictionary.isEmpty, random.oneIn(2) || input.isEmpty {
                unit = dictionary[random.below(dictionary.count)]
            } else if !input.isEmpty {
                let start = position()
                unit = Array(input[start..<min(input.count, start + 1 + random.below(8))])
            } else {
                unit = [UInt8(ascii: "[")]
            }
            let times = [2, 10, 100, 1000, 10_000][random.below(5)]
            let repeated = Array([[UInt8]](repeating: unit, count: min(times, maximumLength / max(1, unit.count))).joined())
            input.insert(contentsOf: repeated, at: position(inclusive: true))
        case 10 where corpus.count > 1:  // splice with another entry
            let other = corpus[random.below(corpus.count)]
            let cut = position(inclusive: true)
            let from = random.below(other.count + 1)
            input = Array(input[..<cut]) + Array(other[from...])
        default:
            if !input.isEmpty { input[position()] = UInt8.random(in: 0...255, using: &random) }
        }
    }
}
