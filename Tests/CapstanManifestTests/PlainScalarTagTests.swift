@testable import CapstanManifest
import Testing
import Yams

/// ``PlainScalarTag`` must type every plain scalar as Yams' regular expressions (`Resolver.default`) do.
@Suite("PlainScalarTag")
struct PlainScalarTagTests {
    static func yams(_ string: String) -> Yams.Tag.Name { Resolver.default.resolveTag(of: Node.scalar(Node.Scalar(string))) }

    @Test(arguments: [
        "", "~", "null", "Null", "NULL", "nULL", "yes", "Yes", "YES", "yEs", "no", "on", "OFF", "true", "False", "y", "n",
        "0", "-0", "+0", "00", "08", "0o7", "0o", "0o8", "07_7", "0b101", "0b", "-0b1_0", "0b2", "0x1F", "0xg", "0x", "0x_",
        "12", "1_000", "-12", "+12", "1__", "_1", "190:20:30", "1:2", "1:60", "1:5x", "1:", ":1", "0:1", "1:234",
        "1.5", "1.", ".5", "-.5", ".5e+3", ".5e3", "1e5", "1E-5", "1.0e", "1_0.0_1", "-1.5e+10", "190:20:30.15", "190:20:30",
        "1:2.", ".inf", "-.inf", "+.Inf", ".INF", ".iNF", ".nan", ".NaN", "-.nan", ".", "-", "+", "e5", "1e+",
        "<<", "<", "=", "==", "2001-12-14", "2001-12-1", "2001-1-1", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
        "2001-12-15T02:59:43.1Z", "2001-12-15 2:59:43.10", "2002-12-14 1:02:03 Z", "2001-12-14 21:59:43 ", "2001-12-14T21:59",
        "2001-12-14T21:59:43+05:3", "2001-12-14T21:59:43.", "20011-12-14", "2001-123-14", "2001-12-14\t\t21:59:43Z",
        "12\n", "12\r\n", "12\r", "12\n\n", "\n", "\r\n", "true\u{0B}", "null\u{0C}", "1.5\u{85}", "on\u{2028}", "off\u{2029}",
        "1\u{2028}\u{2028}", "12 ", " 12", "١٢", "tru\u{E9}", "web", "/bin/sleep", "256Mi", "0.25", "8080", "docker://x:1",
    ])
    func typesAsYamsDoes(_ string: String) {
        #expect(PlainScalarTag.resolve(string) == Self.yams(string), "\(string.debugDescription)")
    }

    /// Random strings over the characters the patterns care about, with a fixed seed.
    @Test func typesRandomStringsAsYamsDoes() {
        let alphabet: [String] = [
            "0", "1", "5", "6", "7", "8", "9", "-", "+", "_", ".", ":", "e", "E", "b", "o", "x", "a", "F", "T", "t", "Z", " ",
            "\t", "\n", "\r", "inf", "nan", "NaN", "Inf", "true", "null", "~", "<<", "=", "2001-12-14", "\u{2028}", "é",
        ]
        var generator = SplitMix64(seed: 0x5EED_CAFE)
        var mismatches: [String] = []
        for _ in 0..<20_000 {
            let length = Int(generator.next() % 9)
            let string = (0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }.joined()
            if PlainScalarTag.resolve(string) != Self.yams(string) { mismatches.append(string) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(20).map(\.debugDescription))")
    }
}

/// A small deterministic generator (SplitMix64), so that a failure reproduces.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
