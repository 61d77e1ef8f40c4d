import CapstanTestSupport
import Foundation
import Testing

/// `capstan-fuzz run` through the built binary, on its canary target: a crash, a hang and a broken invariant
/// each fail the run and leave the input that caused them on disk; the committed corpus of every target runs clean.
@Suite("capstan-fuzz", .serialized)
struct FuzzHarnessTests {
    static var fuzz: String { URL(fileURLWithPath: CapstanBinary.path).deletingLastPathComponent().appendingPathComponent("capstan-fuzz").path }
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func withCorpus(_ seed: String, _ body: (_ corpus: String, _ findings: String) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-fuzz-test-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir + "/corpus", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try seed.write(toFile: dir + "/corpus/seed", atomically: true, encoding: .utf8)
        try await body(dir + "/corpus", dir + "/findings")
    }

    static func saved(_ findings: String) throws -> [Data] {
        try FileManager.default.contentsOfDirectory(atPath: findings).map {
            try Data(contentsOf: URL(fileURLWithPath: findings + "/" + $0))
        }
    }

    @Test(arguments: [("crash", "crash: signal"), ("finding", "finding: an invariant broke"), ("hang", "hang: one input ran over 1.0 s")])
    func aFailingInputFailsTheRunAndIsSaved(seed: String, reason: String) async throws {
        try await Self.withCorpus(seed) { corpus, findings in
            let run = try await ValidateCommandTests.capstanOrGit([
                Self.fuzz, "run", "--target", "canary", "--seconds", "3", "--timeout", "1", "--corpus", corpus, "--findings", findings,
            ])
            #expect(run.status == 1, "\(run.output)")
            #expect(run.output.contains("canary: \(reason)"), "\(run.output)")
            let inputs = try Self.saved(findings)
            #expect(!inputs.isEmpty && inputs.allSatisfy { $0.starts(with: Data(seed.utf8)) }, "\(inputs)")
            #expect(run.output.contains(" crashes=") && run.output.contains(" executions="), "\(run.output)")
        }
    }

    @Test func theCommittedCorpusOfEveryTargetRunsClean() async throws {
        for target in ["manifest", "json", "recordio", "layer"] {
            let corpus = Self.root.appendingPathComponent("Tests/Fuzz/corpus/\(target)").path
            let inputs = try FileManager.default.contentsOfDirectory(atPath: corpus).sorted().map { corpus + "/" + $0 }
            let run = try await ValidateCommandTests.capstanOrGit([Self.fuzz, "exec", "--target", target] + inputs)
            #expect(run.status == 0, "\(target): \(run.output)")
            #expect(run.output.split(separator: "\n").count == inputs.count, "\(run.output)")
        }
    }
}
