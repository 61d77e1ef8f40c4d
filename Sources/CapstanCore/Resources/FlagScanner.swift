/// A cursor over the characters of one `;`-separated flag string, shared by the resource and
/// attribute parsers.
struct FlagScanner {
    let text: String
    let characters: [Character]
    let subject: String

    init(_ text: String, subject: String = "resources") {
        self.text = text
        self.subject = subject
        characters = Array(text)
    }

    func error(at position: Int, _ reason: String) -> ResourceParseError {
        ResourceParseError(text: text, position: position, reason: reason, subject: subject)
    }

    /// The `[start, end)` bounds of each `;`-separated item, trimmed of spaces; blank items are
    /// skipped, so a trailing `;` is accepted as Mesos does.
    func items() -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = 0
        for index in 0...characters.count where index == characters.count || characters[index] == ";" {
            let trimmed = trim(start..<index)
            if !trimmed.isEmpty { out.append(trimmed) }
            start = index + 1
        }
        return out
    }

    /// `range` without leading and trailing whitespace.
    func trim(_ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper && characters[lower].isWhitespace { lower += 1 }
        while upper > lower && characters[upper - 1].isWhitespace { upper -= 1 }
        return lower..<upper
    }

    func string(_ range: Range<Int>) -> String { String(characters[range]) }

    /// The first index in `range` holding `character`, if any.
    func firstIndex(of character: Character, in range: Range<Int>) -> Int? {
        range.first { characters[$0] == character }
    }

    /// Parses `[a-b, c-d]` spanning exactly `range` (which starts with `[`).
    func parseRanges(_ range: Range<Int>) throws(ResourceParseError) -> [ValueRange] {
        guard range.count >= 2, characters[range.upperBound - 1] == "]" else {
            throw error(at: range.upperBound, "expected ']' to close the ranges")
        }
        let inner = (range.lowerBound + 1)..<(range.upperBound - 1)
        if trim(inner).isEmpty { return [] }
        var out: [ValueRange] = []
        var start = inner.lowerBound
        for index in inner.lowerBound...inner.upperBound
        where index == inner.upperBound || characters[index] == "," {
            let item = trim(start..<index)
            guard !item.isEmpty else { throw error(at: item.lowerBound, "expected a range 'begin-end'") }
            guard let dash = firstIndex(of: "-", in: item) else {
                throw error(at: item.lowerBound, "expected a range 'begin-end'")
            }
            let beginRange = trim(item.lowerBound..<dash)
            let endRange = trim((dash + 1)..<item.upperBound)
            let begin = try parseInteger(beginRange)
            let end = try parseInteger(endRange)
            guard begin <= end else { throw error(at: item.lowerBound, "range begin is greater than its end") }
            out.append(ValueRange(begin: begin, end: end))
            start = index + 1
        }
        return out
    }

    /// Parses `{a,b}` spanning exactly `range` (which starts with `{`).
    func parseSet(_ range: Range<Int>) throws(ResourceParseError) -> [String] {
        guard range.count >= 2, characters[range.upperBound - 1] == "}" else {
            throw error(at: range.upperBound, "expected '}' to close the set")
        }
        let inner = (range.lowerBound + 1)..<(range.upperBound - 1)
        if trim(inner).isEmpty { return [] }
        var out: [String] = []
        var start = inner.lowerBound
        for index in inner.lowerBound...inner.upperBound
        where index == inner.upperBound || characters[index] == "," {
            let item = trim(start..<index)
            guard !item.isEmpty else { throw error(at: item.lowerBound, "expected a set item") }
            out.append(string(item))
            start = index + 1
        }
        return out
    }

    /// Parses an unsigned decimal integer spanning exactly `range`.
    func parseInteger(_ range: Range<Int>) throws(ResourceParseError) -> UInt64 {
        guard !range.isEmpty, range.allSatisfy({ characters[$0].isASCII && characters[$0].isNumber }),
            let value = UInt64(string(range))
        else {
            throw error(at: range.lowerBound, "expected an integer")
        }
        return value
    }

    /// Parses a finite decimal number (`2`, `0.5`, `1e3`, `-1`) spanning exactly `range`, or nil.
    func number(_ range: Range<Int>) -> Double? {
        guard let first = range.first.map({ characters[$0] }),
            first.isNumber || first == "." || first == "-" || first == "+",
            range.allSatisfy({ "0123456789.eE+-".contains(characters[$0]) }),
            let value = Double(string(range)), value.isFinite
        else { return nil }
        return value
    }
}
