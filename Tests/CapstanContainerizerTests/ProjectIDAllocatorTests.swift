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
    }
}

@Suite("ProjectQuotaSupport")
struct ProjectQuotaSupportTests {
    static let kernelWithQuotas = ProjectQuotaSupport.Kernel(xfsQuota: true, genericQuota: true)

    static func line(_ device: String, _ point: String, _ type: String, _ source: String, _ options: String) -> String {
        "36 25 \(device) / \(point) rw,relatime shared:1 - \(type) \(source) \(options)"
    }

    @Test("XFS mounted with prjquota (or pquota) on a kernel with XFS quotas is supported")
    func xfsWithPrjquotaIsSupported() throws {
        for option in ["prjquota", "pquota", "pqnoenforce"] {
            let mountinfo = Self.line("8:16", "/var/lib/capstan", "xfs", "/dev/sdb", "rw,attr2,inode64,\(option)")
            let support = try #require(
                ProjectQuotaSupport.evaluate(mountinfo: mountinfo, device: "8:16", path: "/var/lib/capstan/agent", kernel: Self.kernelWithQuotas))
            #expect(support.isSupported, "\(support)")
            #expect(support.summary.hasPrefix("supported (xfs /dev/sdb mounted at /var/lib/capstan"), "\(support.summary)")
        }
    }

    @Test("Each missing piece is named: the XFS mount option, XFS quota in the kernel, ext4's project feature, another filesystem")
    func missingPiecesAreNamed() throws {
        let xfs = Self.line("8:16", "/data", "xfs", "/dev/sdb", "rw,attr2,inode64,noquota")
        let both = try #require(
            ProjectQuotaSupport.evaluate(
                mountinfo: xfs, device: "8:16", path: "/data/agent", kernel: .init(xfsQuota: false, genericQuota: true)))
        #expect(both.missing.count == 2, "\(both)")
        #expect(both.missing[0].contains("CONFIG_XFS_QUOTA"))
        #expect(both.missing[1].contains("/dev/sdb at /data is mounted without project quotas: mount it with -o prjquota"))
        #expect(both.summary.hasPrefix("unavailable: "))

        let ext4 = Self.line("254:0", "/", "ext4", "/dev/vda", "rw,discard")
        let plain = try #require(ProjectQuotaSupport.evaluate(mountinfo: ext4, device: "254:0", path: "/srv/agent", kernel: Self.kernelWithQuotas))
        #expect(plain.missing == [
            "/dev/vda at / is mounted without project quotas: enable the project feature (tune2fs -O project,quota /dev/vda, unmounted) and mount it with -o prjquota"
        ])
        let noQuotaKernel = try #require(
            ProjectQuotaSupport.evaluate(
                mountinfo: Self.line("254:0", "/", "ext4", "/dev/vda", "rw,prjquota"), device: "254:0", path: "/srv",
                kernel: .init(xfsQuota: false, genericQuota: false)))
        #expect(noQuotaKernel.missing == ["this kernel has no quota support (CONFIG_QUOTA: no /proc/sys/fs/quota)"])

        let tmpfs = Self.line("0:45", "/run/agent", "tmpfs", "tmpfs", "rw,size=1024k")
        let other = try #require(ProjectQuotaSupport.evaluate(mountinfo: tmpfs, device: "0:45", path: "/run/agent", kernel: Self.kernelWithQuotas))
        #expect(other.missing.first?.contains("/run/agent is tmpfs, which has no project quotas here") == true, "\(other)")
    }

    @Test("The mount holding the path is the deepest one of its device; escaped mount points are read back")
    func picksTheDeepestMountOfTheDevice() throws {
        let mountinfo = [
            Self.line("8:16", "/", "xfs", "/dev/sdb", "rw,noquota"),
            Self.line("8:16", "/srv/with\\040space", "xfs", "/dev/sdb", "rw,prjquota"),
            Self.line("8:17", "/srv/with\\040space/agent", "xfs", "/dev/sdc", "rw,noquota"),
        ].joined(separator: "\n")
        let support = try #require(
            ProjectQuotaSupport.evaluate(
                mountinfo: mountinfo, device: "8:16", path: "/srv/with space/work", kernel: Self.kernelWithQuotas))
        #expect(support.mountPoint == "/srv/with space" && support.isSupported, "\(support)")
        #expect(ProjectQuotaSupport.evaluate(mountinfo: mountinfo, device: "9:9", path: "/srv", kernel: Self.kernelWithQuotas) == nil)
    }

    @Test("On this machine the work dir's filesystem is detected, and what disk/xfs lacks here is said")
    func detectsThisMachine() throws {
        let support = try ProjectQuotaSupport.detect(path: NSTemporaryDirectory())
        #expect(!support.filesystem.isEmpty && support.mountPoint.hasPrefix("/"))
        if !support.isSupported {
            // These machines' kernels have no XFS quota support: quota-setting tests (none yet) cannot run here, for this reason.
            print("NOTE: disk/xfs project quotas cannot be enforced on this machine: \(support.summary)")
            #expect(!support.missing.isEmpty)
        }
    }
}
