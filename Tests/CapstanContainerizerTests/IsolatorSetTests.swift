import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc
import Logging
import Testing

/// ``IsolatorSet/available(base:pidsMax:logger:)`` names what it leaves out instead of dropping it silently.
@Suite("Isolator set")
struct IsolatorSetTests {
    @Test func everyIsolatorOfAUsableHierarchyIsAvailable() async throws {
        guard geteuid() == 0 else { return }  // without root, every isolator is unavailable (the next test)
        try await CgroupV2FakeTreeTests.FakeTree.with { tree in
            let warnings = CapturedLog(only: .warning)
            let set = IsolatorSet.available(base: tree.base, pidsMax: 100, logger: Logger(label: "test") { _ in warnings })
            #expect(set.names == ["cgroups/cpu", "cgroups/mem", "cgroups/pids"])
            #expect(set.unavailable.isEmpty)
            #expect(warnings.lines.isEmpty)
        }
    }

    @Test func missingHierarchiesAreNamedInOneWarning() async throws {
        let base = "/tmp/capstan-no-cgroups-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let warnings = CapturedLog(only: .warning)
        let set = IsolatorSet.available(base: base, logger: Logger(label: "test") { _ in warnings })
        #expect(set.isolators.isEmpty)
        #expect(set.unavailable.count == 3, "\(set.unavailable)")
        for name in ["cgroups/cpu", "cgroups/mem", "cgroups/pids"] {
            #expect(set.unavailable.contains { $0.hasPrefix(name + ": ") }, "\(set.unavailable)")
        }
        if geteuid() == 0 {
            #expect(set.unavailable.contains { $0.contains("no memory cgroup hierarchy under '\(base)'") }, "\(set.unavailable)")
        }
        #expect(warnings.lines.count == 1, "one warning at start: \(warnings.lines)")
        #expect(warnings.lines.first?.contains("cgroups/mem") == true)
    }

    @Test func aHierarchyThatCannotBeWrittenIsUnavailable() async throws {
        guard geteuid() == 0 else { return }
        try await CgroupV2FakeTreeTests.FakeTree.with { tree in
            // A file where the `capstan` cgroup should be: mkdir fails, as on a read-only cgroupfs.
            try FileManager.default.removeItem(atPath: tree.base + "/capstan")
            try tree.file("capstan", "")
            let set = IsolatorSet.available(base: tree.base, logger: quietLogger)
            #expect(set.isolators.isEmpty, "\(set.names)")
            #expect(set.unavailable.allSatisfy { $0.contains("capstan") }, "\(set.unavailable)")
        }
    }
}
