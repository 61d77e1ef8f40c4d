/// Parsers for the scalar forms of the manifest format: sizes, durations, percentages and names.
///
/// They are pure leaf parsers, so they throw a typed error whose message is meant to follow
/// `file:line:column: field:` in a diagnostic.
public enum ManifestValue {
    /// A value that does not have the expected form; `message` reads after the field path.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    /// Parses a size into MiB, the unit Mesos uses for `mem` and `disk`.
    ///
    /// Binary suffixes `Ki`, `Mi`, `Gi`, `Ti`; decimal `k`/`K`, `M`, `G`, `T` (powers of 1000 bytes);
    /// a plain number is MiB. `128Mi` = 128, `1Gi` = 1024, `512M` = 488.28125.
    public static func sizeMiB(_ text: String) throws(ParseError) -> Double {
        let trimmed = text.trimmingWhitespace().utf8
        let numberEnd = trimmed.firstIndex { !($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") || $0 == UInt8(ascii: ".")) }
            ?? trimmed.endIndex
        guard numberEnd > trimmed.startIndex, let number = Double(Substring(trimmed[..<numberEnd])),
            number.isFinite
        else { throw ParseError("'\(text)' is not a size (use e.g. 128Mi, 1Gi)") }
        let bytesPerMiB = 1_048_576.0
        let factor: Double
        switch Substring(trimmed[numberEnd...]) {
        case "": return number
        case "Ki": factor = 1024 / bytesPerMiB
        case "Mi": factor = 1
        case "Gi": factor = 1024
        case "Ti": factor = 1024 * 1024
        case "k", "K": factor = 1e3 / bytesPerMiB
        case "M": factor = 1e6 / bytesPerMiB
        case "G": factor = 1e9 / bytesPerMiB
        case "T": factor = 1e12 / bytesPerMiB
        default: throw ParseError("'\(text)' is not a size (use e.g. 128Mi, 1Gi)")
        }
        return number * factor
    }

    /// Parses a duration: a number and a unit (`500ms`, `5s`, `1m`, `2h`, `1d`), or a plain number of seconds.
    public static func duration(_ text: String) throws(ParseError) -> Duration {
        let trimmed = text.trimmingWhitespace()
        guard let first = trimmed.first, first.isNumber || first == "." else {
            throw ParseError("'\(text)' is not a duration (use e.g. 500ms, 5s, 1m, 2h)")
        }
        do {
            return try DurationText.parse(String(trimmed))
        } catch {
            throw ParseError("'\(text)' is not a duration (use e.g. 500ms, 5s, 1m, 2h)")
        }
    }

    /// Parses `N%` (0 to 100) or a non-negative whole count.
    public static func amount(_ text: String) throws(ParseError) -> InstanceAmount {
        let trimmed = text.trimmingWhitespace()
        if trimmed.hasSuffix("%") {
            if let percent = Double(trimmed.dropLast()), percent >= 0, percent <= 100 { return .percent(percent) }
            throw ParseError("'\(text)' is not a percentage between 0% and 100%")
        }
        if let count = Int(trimmed), count >= 0 { return .count(count) }
        throw ParseError("'\(text)' is not a count or a percentage (use e.g. 1 or 50%)")
    }

    /// Whether `name` is a DNS label: 1 to 63 of `a-z`, `0-9` and `-`, starting and ending with a letter or digit.
    public static func isDNSLabel(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard (1...63).contains(scalars.count) else { return false }
        func alnum(_ s: Unicode.Scalar) -> Bool { ("a"..."z").contains(s) || ("0"..."9").contains(s) }
        guard alnum(scalars.first!), alnum(scalars.last!) else { return false }
        return scalars.allSatisfy { alnum($0) || $0 == "-" }
    }
}
