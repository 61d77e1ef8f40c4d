import CapstanContainerizer
import CapstanCore
import Foundation
import Testing

@Suite("ProjectIDAllocator")
struct ProjectIDAllocatorTests {
    @Test("--xfs-project-range takes Mesos' [LOW-HIGH] form and refuses a reversed range, project 0 and anything else")
    func parsesTheRange() throws {
        #expect(try ProjectIDRange(parsing: "[5000-10000]").ids == 5000...10000)
        #expect(try ProjectIDRange(parsing: " 7-9 ").ids == 7...9)
        #expect(ProjectIDRange.default.description == "[5000-10000]")
        for (text, words) in [("[10-5]", "starts above its end"), ("[0-10]", "project 0"), ("[5000]", "is not a range"), ("a-b", "is not a range"), ("[-1-5]", "is not a range")] {
            let error = #expect(throws: CapstanError.self) { try ProjectIDRange(parsing: text) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains(words) == true, "\(text): \(error?.message ?? "")")
        }
    }

    @Test("Each container gets the lowest free ID, keeps it, and a released ID is reused first")
    func allocatesLowestFreeAndReuses() throws {
        var allocator = ProjectIDAllocator(range: try ProjectIDRange(parsing: "[100-102]"))
        #expect(try allocator.allocate(for: "a") == 100)
        #expect(try allocator.allocate(for: "b") == 101)
        #expect(try allocator.allocate(for: "a") == 100, "the same container keeps its ID")
        #expect(allocator.free == 1)
        #expect(allocator.release("a") == 100)
        #expect(allocator.release("a") == nil)
        #expect(try allocator.allocate(for: "c") == 100, "the lowest free ID comes back first")
        #expect(try allocator.allocate(for: "d") == 102)
        let error = #expect(throws: CapstanError.self) { try allocator.allocate(for: "e") }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("all 3 of [100-102] are held; widen --xfs-project-range") == true, "\(error?.message ?? "")")
    }

    @Test("A checkpoint survives a restart; recovery keeps running containers' IDs and releases gone ones and IDs outside a narrowed range")
    func checkpointAndRecovery() throws {
        let workDir = NSTemporaryDirectory() + "capstan-xfs-ids-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: workDir) }
        let store = ProjectIDStore(workDir: workDir)
        let range = try ProjectIDRange(parsing: "[5000-5009]")
        #expect(try store.load(range: range) == ProjectIDAllocator(range: range), "no checkpoint: nothing held")

        var allocator = try store.load(range: range)
        for name in ["a", "b", "c", "d"] { _ = try allocator.allocate(for: ContainerID(name)) }
        try store.save(allocator)

        // The same range after a restart: everything is back, and the next container gets the next ID.
        var restarted = try store.load(range: range)
        #expect(restarted.assignments == allocator.assignments)
        #expect(restarted.recover(keeping: ["a", "c", "d"]) == ["b": 5001], "b ended while the agent was down")
        #expect(try restarted.allocate(for: "e") == 5001)
        try store.save(restarted)

        // A narrowed range: the IDs outside it are released even for running containers (they get new ones).
        var narrowed = try store.load(range: try ProjectIDRange(parsing: "[5000-5002]"))
        #expect(narrowed.recover(keeping: ["a", "c", "d", "e"]) == ["d": 5003])
        #expect(narrowed.assignments == ["a": 5000, "e": 5001, "c": 5002])
        #expect(narrowed.free == 0)
    }

    @Test("A checkpoint that is not one is an error naming the file")
    func corruptCheckpointIsAnError() throws {
        let workDir = NSTemporaryDirectory() + "capstan-xfs-ids-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: workDir) }
        let store = ProjectIDStore(workDir: workDir)
        try FileManager.default.createDirectory(atPath: workDir + "/meta", withIntermediateDirectories: true)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: store.path))
        let error = #expect(throws: CapstanError.self) { try store.load(range: .default) }
        #expect(error?.message.contains(store.path) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("torn or corrupted); restore it") == true, "\(error?.message ?? "")")
    }
}
