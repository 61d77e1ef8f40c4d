import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc
import Testing

/// The native walker against GNU `du` on the same trees: it must count exactly what `du -s -x` counts.
@Suite("DiskUsageWalker", .serialized)
struct DiskUsageWalkerTests {
    /// `du -s -x -B1` (bytes) of `paths`, the grand total when there are several.
    static func du(_ paths: [String], kibibytes: Bool = false) throws -> UInt64 {
        let du = try Prerequisites.path(of: "du")
        let output = HostCommand.output(du, ["-s", "-x", "-c", kibibytes ? "-k" : "-B1"] + paths)
        let total = try #require(output.split(separator: "\n").last, "du printed nothing for \(paths)")
        return try #require(UInt64(total.split(separator: "\t").first ?? ""), "du's total: \(output)")
    }

    static func write(_ path: String, bytes: Int) throws {
        try Data(repeating: 0x61, count: bytes).write(to: URL(fileURLWithPath: path))
    }

    /// A tree with what makes `du` differ from a naive sum of sizes: a sparse file, hard links inside and across
    /// directories, symlinks to a big file and to a directory outside it, empty files and directories, a fifo, and
    /// nested directories.
    static func makeTree(_ root: String, outside: String) throws {
        let fm = FileManager.default
        for directory in ["a/b/c", "a/empty", "d", "links"] {
            try fm.createDirectory(atPath: "\(root)/\(directory)", withIntermediateDirectories: true)
        }
        try write("\(root)/small", bytes: 10)
        try write("\(root)/a/b/medium", bytes: 123_457)
        try write("\(root)/a/b/c/big", bytes: 3 << 20)
        try write("\(root)/d/empty-file", bytes: 0)
        // Sparse: 64 MiB long, one 4 KiB block written in the middle.
        let fd = open("\(root)/d/sparse", O_CREAT | O_WRONLY, 0o644)
        #expect(fd >= 0)
        #expect(ftruncate(fd, 64 << 20) == 0)
        let block = [UInt8](repeating: 1, count: 4096)
        #expect(pwrite(fd, block, block.count, 32 << 20) == block.count)
        close(fd)
        // Three names for one 1 MiB file (two in the tree, in different directories) and one for the small file.
        try write("\(root)/a/linked", bytes: 1 << 20)
        #expect(link("\(root)/a/linked", "\(root)/links/second") == 0)
        #expect(link("\(root)/a/linked", "\(root)/d/third") == 0)
        // Symlinks to a 5 MiB file and a directory outside the tree: their targets are not counted.
        try fm.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try write("\(outside)/huge", bytes: 5 << 20)
        #expect(symlink("\(outside)/huge", "\(root)/links/to-huge") == 0)
        #expect(symlink(outside, "\(root)/links/to-outside") == 0)
        #expect(symlink("dangling-target", "\(root)/links/dangling") == 0)
        #expect(mkfifo("\(root)/d/fifo", 0o644) == 0)
    }

    @Test("Counts a tree with a sparse file, hard links and symlinks exactly as du -s -B1 and du -sk do")
    func matchesDuOnATreeWithSparseFilesHardLinksAndSymlinks() throws {
        try withScratch { scratch in
            let root = scratch + "/tree"
            try Self.makeTree(root, outside: scratch + "/outside")
            let usage = try DiskUsageWalker.measure([root])
            #expect(usage.bytes == (try Self.du([root])), "\(usage)")
            // du -k rounds the byte total up to whole KiB.
            #expect((usage.bytes + 1023) / 1024 == (try Self.du([root], kibibytes: true)))
            // The linked file once, the sparse file by what it allocates: far below the sum of sizes.
            #expect(usage.bytes < 6 << 20, "\(usage)")
            #expect(usage.bytes > (3 << 20) + (1 << 20), "\(usage)")
            #expect(usage.otherFilesystems == 0 && usage.unreadable == 0)
        }
    }

    @Test("A file linked from two measured roots counts once, as du counts it across its arguments")
    func hardLinksAcrossRootsCountOnce() throws {
        try withScratch { scratch in
            let (first, second) = (scratch + "/sandbox", scratch + "/upper")
            try FileManager.default.createDirectory(atPath: first, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: second, withIntermediateDirectories: true)
            try Self.write(first + "/data", bytes: 2 << 20)
            #expect(link(first + "/data", second + "/data") == 0)
            let both = try DiskUsageWalker.measure([first, second])
            #expect(both.bytes == (try Self.du([first, second])))
            let alone = try DiskUsageWalker.measure([second])
            #expect(both.bytes < alone.bytes + (2 << 20), "the shared 2 MiB once: \(both) vs \(alone)")
        }
    }

    @Test("A root that does not exist counts zero; a regular file as root counts its own blocks")
    func missingRootCountsZero() throws {
        try withScratch { scratch in
            #expect(try DiskUsageWalker.measure([scratch + "/nope"]) == DiskUsage())
            try Self.write(scratch + "/file", bytes: 100_000)
            #expect(try DiskUsageWalker.measure([scratch + "/file"]).bytes == (try Self.du([scratch + "/file"])))
        }
    }

    @Test("A tree deeper than the descriptors the walk may hold is counted exactly, ancestors reopened through ..")
    func deepTreeIsCountedWithBoundedDescriptors() throws {
        try withScratch { scratch in
            let root = scratch + "/deep"
            var path = root
            for level in 0..<(DiskUsageWalker.maxOpenDirectories * 2 + 7) {
                path += "/d"
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                if level % 50 == 0 { try Self.write(path + "/f", bytes: 5000) }
            }
            // Siblings after the deep branch, visited once the walk has come back up through the reopened ancestors.
            try FileManager.default.createDirectory(atPath: root + "/d/sibling", withIntermediateDirectories: true)
            try Self.write(root + "/d/sibling/after", bytes: 70_000)
            let usage = try DiskUsageWalker.measure([root])
            #expect(usage.bytes == (try Self.du([root])), "\(usage)")
            #expect(Self.descriptors(under: root).isEmpty, "every descriptor the walk opened is closed")
        }
    }

    @Test("A filesystem mounted inside the tree is left out, with what it holds, as du -x does")
    func nestedMountIsLeftOut() throws {
        guard Prerequisites.met("mounting a tmpfs", .root("mount(2) needs uid 0")) else { return }
        try withScratch { scratch in
            let root = scratch + "/tree"
            try FileManager.default.createDirectory(atPath: root + "/mnt", withIntermediateDirectories: true)
            try Self.write(root + "/own", bytes: 200_000)
            #expect(mount("tmpfs", root + "/mnt", "tmpfs", 0, "size=16m") == 0, "mount tmpfs: errno \(errno)")
            defer { umount2(root + "/mnt", Int32(MNT_DETACH)) }
            try Self.write(root + "/mnt/elsewhere", bytes: 4 << 20)
            let usage = try DiskUsageWalker.measure([root])
            #expect(usage.otherFilesystems == 1, "\(usage)")
            #expect(usage.bytes == (try Self.du([root])), "\(usage)")
            #expect(usage.bytes < 4 << 20, "the tmpfs's 4 MiB is not counted: \(usage)")
        }
    }

    @Test("A walk whose stop check says stop ends with CancellationError")
    func stopsWhenAsked() throws {
        try withScratch { scratch in
            for index in 0..<600 { try Self.write("\(scratch)/f\(index)", bytes: 1) }
            #expect(throws: CancellationError.self) { try DiskUsageWalker.measure([scratch]) { true } }
        }
    }

    /// This process's open descriptors of paths under `root`.
    static func descriptors(under root: String) -> [String] {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0) }.filter { $0.hasPrefix(root) }
    }

    func withScratch(_ body: (String) throws -> Void) throws {
        let path = "/tmp/capstan-du-test-\(UUID().uuidString.prefix(12))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }
}
