import CapstanCore
import Testing

@Suite("ManifestValue")
struct ManifestValueTests {
    @Test(arguments: [
        ("128Mi", 128.0), ("1Gi", 1024.0), ("512Ki", 0.5), ("2Ti", 2_097_152.0), ("64", 64.0), ("0.5Gi", 512.0),
        ("512M", 488.28125), ("1G", 953.67431640625), ("1000k", 0.95367431640625),
    ])
    func parsesSizesIntoMiB(text: String, mib: Double) throws {
        #expect(try ManifestValue.sizeMiB(text) == mib)
    }

    @Test(arguments: ["12XB", "", "Mi", "-1Mi", "1 Gi x", "1gi", "1e3"])
    func rejectsBadSizes(text: String) {
        #expect(throws: ManifestValue.ParseError("'\(text)' is not a size (use e.g. 128Mi, 1Gi)")) {
            try ManifestValue.sizeMiB(text)
        }
    }

    @Test func parsesDurations() throws {
        #expect(try ManifestValue.duration("5s") == .seconds(5))
        #expect(try ManifestValue.duration("1m") == .seconds(60))
        #expect(try ManifestValue.duration("500ms") == .milliseconds(500))
        #expect(try ManifestValue.duration("2h") == .seconds(7200))
        #expect(try ManifestValue.duration("10") == .seconds(10))
        #expect(throws: ManifestValue.ParseError("'5x' is not a duration (use e.g. 500ms, 5s, 1m, 2h)")) {
            try ManifestValue.duration("5x")
        }
        #expect(throws: ManifestValue.ParseError.self) { try ManifestValue.duration("s") }
    }

    /// Found by capstan-fuzz: a duration over Int64.max nanoseconds trapped converting a Double to Int64.
    @Test(arguments: ["99999999999999999999999s", "9999999999h", "1e300s", "106752d"])
    func rejectsDurationsTooLongToHold(text: String) {
        #expect(throws: ManifestValue.ParseError.self) { try ManifestValue.duration(text) }
        #expect(throws: CapstanError.self) { try DurationText.parse(text) }
    }

    @Test func durationsUpTo292YearsAreExact() {
        #expect(Duration.exactly(seconds: 9.2e9) == .seconds(9_200_000_000))
        #expect(Duration.exactly(seconds: 9.3e9) == nil)
        #expect(Duration.exactly(seconds: .infinity) == nil)
        #expect(Duration.exactly(seconds: .nan) == nil)
        #expect(Duration.exactly(seconds: -1) == nil)
    }

    @Test func parsesCountsAndPercentages() throws {
        #expect(try ManifestValue.amount("100%") == .percent(100))
        #expect(try ManifestValue.amount("2") == .count(2))
        #expect(throws: ManifestValue.ParseError.self) { try ManifestValue.amount("120%") }
        #expect(throws: ManifestValue.ParseError.self) { try ManifestValue.amount("-1") }
        #expect(InstanceAmount.percent(50).resolved(instances: 3) == 2)
    }

    @Test func checksDNSLabels() {
        #expect(ManifestValue.isDNSLabel("web"))
        #expect(ManifestValue.isDNSLabel("web-2"))
        #expect(!ManifestValue.isDNSLabel("Web"))
        #expect(!ManifestValue.isDNSLabel("-web"))
        #expect(!ManifestValue.isDNSLabel("web_1"))
        #expect(!ManifestValue.isDNSLabel(String(repeating: "a", count: 64)))
    }
}
