import Yams

/// The YAML 1.1 type of a plain (unquoted, untagged) scalar, exactly as Yams' `Resolver.default` decides it
/// (bool, int, float, merge, null, timestamp, value, else str, first match wins), without its regular
/// expressions: those took about a third of the time of decoding a manifest. A test checks both agree.
///
/// Like ICU's `$`, each pattern may also end just before one final line terminator.
enum PlainScalarTag {
    static func resolve(_ string: String) -> Tag.Name {
        var bytes = Array(string.utf8)
        guard dropFinalLineTerminator(&bytes) else { return .str }
        let text = bytes[...]
        if isBool(text) { return .bool }
        if isInt(text) { return .int }
        if isFloat(text) { return .float }
        if text.elementsEqual("<<".utf8) { return .merge }
        if isNull(text) { return .null }
        if isTimestamp(text) { return .timestamp }
        if text.elementsEqual("=".utf8) { return .value }
        return .str
    }

    /// Removes one final `\n`, `\r\n`, `\r`, `\u{0B}`, `\u{0C}`, U+0085, U+2028 or U+2029. False when a byte
    /// outside ASCII remains, which no pattern matches (every class and literal is ASCII).
    private static func dropFinalLineTerminator(_ bytes: inout [UInt8]) -> Bool {
        let nel: [UInt8] = [0xC2, 0x85], ls: [UInt8] = [0xE2, 0x80, 0xA8], ps: [UInt8] = [0xE2, 0x80, 0xA9]
        if bytes.last == 0x0A {
            bytes.removeLast()
            if bytes.last == 0x0D { bytes.removeLast() }
        } else if let last = bytes.last, last == 0x0B || last == 0x0C || last == 0x0D {
            bytes.removeLast()
        } else if bytes.count >= 2 && Array(bytes.suffix(2)) == nel {
            bytes.removeLast(2)
        } else if bytes.count >= 3 && (Array(bytes.suffix(3)) == ls || Array(bytes.suffix(3)) == ps) {
            bytes.removeLast(3)
        }
        return bytes.allSatisfy { $0 < 0x80 }
    }

    typealias Text = ArraySlice<UInt8>

    static let bools: Set<String> = [
        "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
        "on", "On", "ON", "off", "Off", "OFF",
    ]
    static let nulls: Set<String> = ["", "~", "null", "Null", "NULL"]

    private static func isBool(_ text: Text) -> Bool { text.count <= 5 && bools.contains(String(decoding: text, as: UTF8.self)) }
    private static func isNull(_ text: Text) -> Bool { text.count <= 4 && nulls.contains(String(decoding: text, as: UTF8.self)) }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    private static func isHex(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 0x61 && byte <= 0x66) || (byte >= 0x41 && byte <= 0x46)
    }
    private static let underscore = UInt8(ascii: "_")

    /// `[-+]?` dropped.
    private static func unsigned(_ text: Text) -> Text {
        if let first = text.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") { return text.dropFirst() }
        return text
    }

    /// Whether `text` is non-empty and every byte passes `allowed`.
    private static func all(_ text: Text, _ allowed: (UInt8) -> Bool) -> Bool { !text.isEmpty && text.allSatisfy(allowed) }

    /// `(?::[0-5]?[0-9])+`: one or more `:` groups of one digit, or two with the first 0–5.
    private static func isSexagesimalTail(_ text: Text) -> Bool {
        guard !text.isEmpty else { return false }
        for group in text.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false).dropFirst() {
            switch group.count {
            case 1: guard isDigit(group.first!) else { return false }
            case 2: guard group.first! >= 0x30 && group.first! <= 0x35 && isDigit(group.last!) else { return false }
            default: return false
            }
        }
        return text.first == UInt8(ascii: ":")
    }

    /// `[1-9][0-9_]*` followed by a sexagesimal tail.
    private static func isSexagesimal(_ text: Text) -> Bool {
        guard let colon = text.firstIndex(of: UInt8(ascii: ":")) else { return false }
        let head = text[..<colon]
        guard let first = head.first, first >= 0x31 && first <= 0x39 else { return false }
        return head.dropFirst().allSatisfy { isDigit($0) || $0 == underscore } && isSexagesimalTail(text[colon...])
    }

    /// `[-+]?0b[0-1_]+ | [-+]?0o?[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+ | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+`
    static func isInt(_ text: Text) -> Bool {
        let body = unsigned(text)
        guard let first = body.first else { return false }
        if first == UInt8(ascii: "0") {
            let rest = body.dropFirst()
            if rest.isEmpty { return true }
            if rest.first == UInt8(ascii: "b") { return all(rest.dropFirst()) { $0 == 0x30 || $0 == 0x31 || $0 == underscore } }
            if rest.first == UInt8(ascii: "x") { return all(rest.dropFirst()) { isHex($0) || $0 == underscore } }
            let octal = rest.first == UInt8(ascii: "o") ? rest.dropFirst() : rest
            return all(octal) { ($0 >= 0x30 && $0 <= 0x37) || $0 == underscore }
        }
        guard first >= 0x31 && first <= 0x39 else { return false }
        if body.dropFirst().allSatisfy({ isDigit($0) || $0 == underscore }) { return true }
        return isSexagesimal(body)
    }

    /// ```
    /// [-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?
    /// | \.[0-9_]+(?:[eE][-+][0-9]+)?
    /// | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    /// | [-+]?\.(?:inf|Inf|INF)
    /// | \.(?:nan|NaN|NAN)
    /// ```
    static func isFloat(_ text: Text) -> Bool {
        let string = String(decoding: text, as: UTF8.self)
        if [".nan", ".NaN", ".NAN"].contains(string) { return true }
        let body = unsigned(text)
        if [".inf", ".Inf", ".INF"].contains(String(decoding: body, as: UTF8.self)) { return true }
        if text.first == UInt8(ascii: "."), isFraction(text, exponentSign: .required) { return true }
        return isDecimal(body) || isSexagesimalFloat(body)
    }

    private enum ExponentSign { case optional, required }

    /// `\.[0-9_]+(?:[eE][-+][0-9]+)?` (the sign of the exponent required).
    private static func isFraction(_ text: Text, exponentSign: ExponentSign) -> Bool {
        let afterDot = text.dropFirst()
        let digitsEnd = afterDot.firstIndex { !(isDigit($0) || $0 == underscore) } ?? afterDot.endIndex
        guard digitsEnd > afterDot.startIndex else { return false }
        return isExponent(afterDot[digitsEnd...], sign: exponentSign, allowEmpty: true)
    }

    /// `(?:[eE][-+]?[0-9]+)?`, with the sign required or optional; `allowEmpty` for the trailing `?`.
    private static func isExponent(_ text: Text, sign: ExponentSign, allowEmpty: Bool) -> Bool {
        guard let first = text.first else { return allowEmpty }
        guard first == UInt8(ascii: "e") || first == UInt8(ascii: "E") else { return false }
        var digits = text.dropFirst()
        if let s = digits.first, s == UInt8(ascii: "-") || s == UInt8(ascii: "+") {
            digits = digits.dropFirst()
        } else if sign == .required {
            return false
        }
        return all(digits, isDigit)
    }

    /// `[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?` (the sign already dropped).
    private static func isDecimal(_ body: Text) -> Bool {
        guard let first = body.first, isDigit(first) else { return false }
        var rest = body.dropFirst()
        while let byte = rest.first, isDigit(byte) || byte == underscore { rest = rest.dropFirst() }
        if rest.first == UInt8(ascii: ".") {
            rest = rest.dropFirst()
            while let byte = rest.first, isDigit(byte) || byte == underscore { rest = rest.dropFirst() }
        }
        return isExponent(rest, sign: .optional, allowEmpty: true)
    }

    /// `[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*` (the sign already dropped).
    private static func isSexagesimalFloat(_ body: Text) -> Bool {
        guard let first = body.first, isDigit(first), let dot = body.lastIndex(of: UInt8(ascii: ".")),
            let colon = body.firstIndex(of: UInt8(ascii: ":")), colon < dot
        else { return false }
        let head = body[..<colon]
        return head.dropFirst().allSatisfy { isDigit($0) || $0 == underscore }
            && isSexagesimalTail(body[colon..<dot])
            && body[body.index(after: dot)...].allSatisfy { isDigit($0) || $0 == underscore }
    }

    /// ```
    /// [0-9]{4}-[0-9]{2}-[0-9]{2}
    /// | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?
    /// ```
    static func isTimestamp(_ text: Text) -> Bool {
        var scanner = Scanner(text)
        guard scanner.digits(4...4), scanner.take("-"), scanner.digits(1...2), scanner.take("-"), scanner.digits(1...2) else {
            return false
        }
        if scanner.atEnd { return text.count == 10 }  // the date alone needs two-digit month and day
        if !scanner.take("T") && !scanner.take("t") {
            guard scanner.blanks() > 0 else { return false }
        }
        guard scanner.digits(1...2), scanner.take(":"), scanner.digits(2...2), scanner.take(":"), scanner.digits(2...2) else {
            return false
        }
        if scanner.take(".") { _ = scanner.digits(0...Int.max) }
        if scanner.atEnd { return true }
        _ = scanner.blanks()
        if scanner.take("Z") { return scanner.atEnd }
        guard scanner.take("-") || scanner.take("+"), scanner.digits(1...2) else { return false }
        if scanner.take(":") { guard scanner.digits(2...2) else { return false } }
        return scanner.atEnd
    }

    /// A cursor over ASCII bytes for ``isTimestamp(_:)``; every step is greedy, which the timestamp
    /// pattern allows (no step can give back what the next one needs).
    private struct Scanner {
        var rest: Text
        init(_ text: Text) { rest = text }
        var atEnd: Bool { rest.isEmpty }

        mutating func take(_ character: Unicode.Scalar) -> Bool {
            guard rest.first == UInt8(ascii: character) else { return false }
            rest = rest.dropFirst()
            return true
        }

        /// Takes as many digits as `count` allows (greedy); false if fewer than its lower bound.
        mutating func digits(_ count: ClosedRange<Int>) -> Bool {
            var taken = 0
            while taken < count.upperBound, let byte = rest.first, PlainScalarTag.isDigit(byte) {
                rest = rest.dropFirst()
                taken += 1
            }
            return taken >= count.lowerBound
        }

        /// Takes spaces and tabs; how many.
        mutating func blanks() -> Int {
            var taken = 0
            while let byte = rest.first, byte == 0x20 || byte == 0x09 {
                rest = rest.dropFirst()
                taken += 1
            }
            return taken
        }
    }
}
