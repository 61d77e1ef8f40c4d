import CapstanCore
import CapstanManifest
import Foundation
import Testing

/// Hostile manifests (issue 9, item 6): each limit is one diagnostic at the place it was crossed, never a crash.
@Suite("ManifestLimits")
struct ManifestLimitsTests {
    static func load(_ yaml: String, file: String = "apps/deep.yaml", limits: ManifestLimits = .default) -> [String] {
        ManifestLoader.load([ManifestFile(path: file, text: yaml)], limits: limits).diagnostics.map(\.description)
    }

    @Test func aFlowDocumentNested5000LevelsIsADiagnosticNotAStackOverflow() {
        let yaml = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"
        #expect(yaml.utf8.count == 10_001)
        #expect(Self.load(yaml) == [
            "apps/deep.yaml:1:65: this list is nested more than 64 levels deep (the limit); manifests are never that deep"
        ])
    }

    @Test func aBlockDocumentNested5000LevelsIsADiagnosticNotAStackOverflow() {
        // `- - - x`: compact block lists, one level per two bytes.
        let yaml = String(repeating: "- ", count: 5000) + "x\n"
        #expect(Self.load(yaml) == [
            "apps/deep.yaml:1:129: this list is nested more than 64 levels deep (the limit); manifests are never that deep"
        ])
        let mappings = String(repeating: "{a: ", count: 5000) + "1" + String(repeating: "}", count: 5000)
        #expect(Self.load(mappings).first?.hasPrefix("apps/deep.yaml:1:257: this mapping is nested more than 64") == true)
    }

    @Test func indentedMappingsReportTheLineThatCrossesTheDepth() {
        let yaml = (0..<100).map { String(repeating: " ", count: $0) + "a:" }.joined(separator: "\n") + " 1\n"
        let diagnostics = Self.load(yaml)
        #expect(diagnostics.count == 1)
        // The 65th mapping starts at the key of line 65, indented 64 columns.
        #expect(diagnostics.first?.hasPrefix("apps/deep.yaml:65:65: this mapping is nested more than 64 levels deep") == true)
    }

    @Test func sixtyFourLevelsAreWithinTheLimit() {
        let yaml = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        let diagnostics = Self.load(yaml)
        #expect(!diagnostics.isEmpty, "a list is not a manifest")
        #expect(diagnostics.allSatisfy { !$0.contains("nested") && !$0.contains("limit") }, "\(diagnostics)")
        #expect(Self.load(yaml, limits: ManifestLimits(maximumDepth: 63)).first?.hasPrefix("apps/deep.yaml:1:64: ") == true)
    }

    @Test func aFileOverTheSizeLimitIsReportedWhereItCrossesIt() {
        let line = String(repeating: "#", count: 99) + "\n"
        let yaml = String(repeating: line, count: 10_486) + "# one more line"  // 1,048,600 + 15 bytes
        #expect(Self.load(yaml) == [
            "apps/deep.yaml:10486:77: the file is larger than 1 MiB (1048576 bytes), the limit for one manifest file; split it"
        ])
        #expect(Self.load(String(repeating: line, count: 100), limits: ManifestLimits(maximumFileBytes: 1000)) == [
            "apps/deep.yaml:11:1: the file is larger than 1000 bytes, the limit for one manifest file; split it"
        ])
    }

    @Test func aFileOverTheNodeLimitIsReportedAtTheNodeThatCrossesIt() {
        let yaml = "[" + String(repeating: "1,", count: 100_001) + "]"
        #expect(Self.load(yaml) == [
            "apps/deep.yaml:1:200000: more than 100000 YAML nodes in this file (the limit)"
        ])
    }

    @Test func billionLaughsIsRefusedAtTheAliasThatExceedsTheBudget() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let aliases = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            yaml += "a\(level): &a\(level) [\(aliases)]\n"
        }
        let started = ContinuousClock.now
        let diagnostics = Self.load(yaml)
        #expect(ContinuousClock.now - started < .seconds(5))
        // a3 stands for 11,111 nodes; the eighth alias of it, on line 5, takes the file past 100,000.
        #expect(diagnostics == [
            "apps/deep.yaml:5:45: alias '*a3' repeats 11111 nodes, taking the file past the limit of 100000 YAML nodes"
        ])
    }

    @Test func anAliasOfADeepAnchorCountsItsDepth() {
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        let yaml = "a: &deep \(deep)\nb: \(String(repeating: "[", count: 30))*deep\(String(repeating: "]", count: 30))\n"
        #expect(Self.load(yaml) == ["apps/deep.yaml:2:34: alias '*deep' nests 71 levels deep here, more than the limit of 64"])
    }

    @Test func smallAliasesStillWork() throws {
        let yaml = """
            apiVersion: capstan/v1
            kind: App
            metadata: {name: web, labels: &labels {team: shop}}
            spec:
              command: [/bin/true]
              env: *labels

            """
        let set = ManifestLoader.load([ManifestFile(path: "web.yaml", text: yaml)])
        #expect(set.diagnostics.map(\.description) == [])
        #expect(try #require(set.workloads.first).spec.env == ["team": "shop"])
    }

    @Test func limitDiagnosticsAreCollectedWithTheOtherFilesProblems() {
        let set = ManifestLoader.load([
            ManifestFile(path: "apps/a.yaml", text: String(repeating: "[", count: 5000)),
            ManifestFile(path: "apps/b.yaml", text: "kind: App\n"),
        ])
        let texts = set.diagnostics.map(\.description)
        #expect(texts.first == "apps/a.yaml:1:65: this list is nested more than 64 levels deep (the limit); manifests are never that deep")
        #expect(texts.contains { $0.hasPrefix("apps/b.yaml:") })
        #expect(!set.isValid)
    }

    /// Found by capstan-fuzz (Tests/Fuzz/corpus/manifest/regress-duration-*.yaml): durations too long for
    /// Int64 nanoseconds, or infinite, crashed the loader.
    @Test(arguments: ["1e30", ".inf", "1e308", "99999999999999999999999s", "9999999999h"])
    func durationsTooLongToHoldAreDiagnostics(value: String) {
        let yaml = "apiVersion: capstan/v1\nkind: App\nmetadata: {name: web}\nspec:\n  command: [/bin/true]\n  killGracePeriod: \(value)\n"
        let diagnostics = Self.load(yaml, file: "apps/web.yaml")
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.hasPrefix("apps/web.yaml:6:20: spec.killGracePeriod: '\(value)' is not a duration") == true, "\(diagnostics)")
    }

    @Test func aDirectoryWithAHugeFileIsReadOnlyUpToTheLimit() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-limits-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A sparse 8 GiB file: reading it whole would take 8 GiB of memory.
        let path = dir + "/huge.yaml"
        #expect(FileManager.default.createFile(atPath: path, contents: Data("a: 1\n".utf8)))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 8 << 30)
        try handle.close()
        let set = try ManifestLoader.loadDirectory(dir, displayPrefix: "repo")
        #expect(set.diagnostics.map(\.description) == [
            "repo/huge.yaml:2:1048572: the file is larger than 1 MiB (1048576 bytes), the limit for one manifest file; split it"
        ])
    }
}
