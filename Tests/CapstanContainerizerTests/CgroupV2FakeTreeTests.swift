import CapstanContainerizer
import CapstanCore
import Foundation
import Glibc
import Testing

/// The cgroup v2 paths of the isolators, against a fake cgroupfs: a scratch directory laid out as a unified
/// hierarchy (`cgroup.controllers` at its root) whose control files exist as empty regular files. cgroupfs creates
/// those files itself; here the test does, then reads back exactly what the isolators wrote. (These machines mount
/// cgroup v1 with only hugetlb on cgroup2, so the v2 paths cannot run against the kernel here.)
@Suite("Cgroup v2 isolators on a fake cgroupfs")
struct CgroupV2FakeTreeTests {
    struct FakeTree {
        let base: String
        let id = ContainerID("v2-\(UUID().uuidString.prefix(8).lowercased())")
        var container: String { base + "/capstan/\(id)" }

        static func with(_ body: (FakeTree) async throws -> Void) async throws {
            let tree = FakeTree(base: "/tmp/capstan-fake-cgroup2-\(UUID().uuidString.prefix(8))")
            defer { try? FileManager.default.removeItem(atPath: tree.base) }
            try tree.file("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n")
            try tree.file("cgroup.subtree_control", "")
            try tree.file("capstan/cgroup.subtree_control", "")
            for name in [
                "cgroup.procs", "memory.max", "memory.swap.max", "cpu.weight", "cpu.max", "pids.max",
            ] {
                try tree.file("capstan/\(tree.id)/\(name)", "")
            }
            try await body(tree)
        }

        func file(_ relative: String, _ content: String) throws {
            let path = base + "/" + relative
            try FileManager.default.createDirectory(
                atPath: String(path[..<path.lastIndex(of: "/")!]), withIntermediateDirectories: true)
            try content.write(toFile: path, atomically: false, encoding: .utf8)
        }

        func read(_ relative: String) -> String {
            (try? String(contentsOfFile: base + "/" + relative, encoding: .utf8)) ?? "<missing>"
        }

        /// Empties the container's files (cgroupfs replaces a value on each write; a regular file would not).
        func truncate() {
            for name in ["memory.max", "memory.swap.max", "cpu.weight", "cpu.max", "pids.max"] {
                _ = Glibc.truncate(container + "/" + name, 0)
            }
        }

        func config(_ limits: ResourceLimits) -> ContainerConfig {
            ContainerConfig(
                containerID: id, command: CommandSpec(shell: true, value: "true"), sandboxDirectory: "/nonexistent", limits: limits)
        }
    }

    @Test func findsTheUnifiedHierarchyWhenNoV1MountExists() async throws {
        try await FakeTree.with { tree in
            let memory = try #require(CgroupHierarchy.find("memory", base: tree.base))
            #expect(memory == CgroupHierarchy(controller: "memory", root: tree.base, version: .v2))
            #expect(CgroupHierarchy.find("cpuacct", base: tree.base)?.controller == "cpu", "cpuacct is part of cpu on v2")
            #expect(CgroupHierarchy.find("devices", base: tree.base) == nil, "not in cgroup.controllers")
            #expect(memory.path(of: tree.id) == tree.container)
        }
    }

    @Test func memoryWritesMemoryMaxEnablesTheControllerAndReadsOOMKillsAndAnon() async throws {
        try await FakeTree.with { tree in
            let isolator = try CgroupsMemoryIsolator(base: tree.base)
            #expect(isolator.cgroupPath(of: tree.id) == tree.container)
            _ = try await isolator.prepare(tree.config(ResourceLimits(memBytes: 64 << 20)))
            #expect(tree.read("cgroup.subtree_control") == "+memory")
            #expect(tree.read("capstan/cgroup.subtree_control") == "+memory")
            #expect(tree.read("capstan/\(tree.id)/memory.max") == "67108864")
            #expect(tree.read("capstan/\(tree.id)/memory.swap.max") == "0")

            try await isolator.isolate(tree.id, pid: 4242)
            #expect(tree.read("capstan/\(tree.id)/cgroup.procs") == "4242")

            tree.truncate()
            try await isolator.update(tree.id, limits: ResourceLimits())
            #expect(tree.read("capstan/\(tree.id)/memory.max") == "max")

            try tree.file("capstan/\(tree.id)/memory.stat", "anon 1048576\nfile 4096\n")
            #expect(try await isolator.usage(tree.id)?.memRSSBytes == 1 << 20)
            try tree.file("capstan/\(tree.id)/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
            try tree.file("capstan/\(tree.id)/memory.peak", "67100000\n")
            #expect(isolator.oomKills(tree.id) == 1)
            let limitation = await isolator.watch(tree.id)
            #expect(limitation?.resource == .memory)
            #expect(limitation?.reason == .memory)
        }
    }

    @Test func cpuWritesWeightAndMaxAndReadsCpuStat() async throws {
        try await FakeTree.with { tree in
            let isolator = try CgroupsCPUIsolator(base: tree.base)
            _ = try await isolator.prepare(tree.config(ResourceLimits(cpus: 0.5)))
            #expect(tree.read("cgroup.subtree_control") == "+cpu")
            // shares 512 → weight 1 + (510 × 9999) / 262142 = 20; quota 50 ms per 100 ms.
            #expect(tree.read("capstan/\(tree.id)/cpu.weight") == "20")
            #expect(tree.read("capstan/\(tree.id)/cpu.max") == "50000 100000")
            tree.truncate()
            try await isolator.update(tree.id, limits: ResourceLimits())
            #expect(tree.read("capstan/\(tree.id)/cpu.max") == "max 100000")
            #expect(tree.read("capstan/\(tree.id)/cpu.weight") == "39")

            try tree.file("capstan/\(tree.id)/cpu.stat", "usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\n")
            let usage = try #require(try await isolator.usage(tree.id))
            #expect(usage.cpusUserTimeSecs == 2 && usage.cpusSystemTimeSecs == 1)
            #expect(isolator.cpuTime(tree.id) == 3)
        }
    }

    @Test func pidsWritesPidsMaxAndCleanupRemovesTheCgroup() async throws {
        try await FakeTree.with { tree in
            let isolator = try CgroupsPIDsIsolator(base: tree.base, defaultMax: 100)
            _ = try await isolator.prepare(tree.config(ResourceLimits()))
            #expect(tree.read("capstan/\(tree.id)/pids.max") == "100")
            try tree.file("capstan/\(tree.id)/pids.current", "7\n")
            #expect(try await isolator.usage(tree.id)?.processes == 7)

            // cgroupfs removes a cgroup's files with it; here the test removes them, then cleanup rmdirs the cgroup.
            for name in try FileManager.default.contentsOfDirectory(atPath: tree.container) {
                try FileManager.default.removeItem(atPath: tree.container + "/" + name)
            }
            try await isolator.cleanup(tree.id)
            #expect(!FileManager.default.fileExists(atPath: tree.container))
            try await isolator.cleanup(tree.id)  // idempotent
        }
    }
}
