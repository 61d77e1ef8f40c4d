import CapstanCore
import CapstanImage
import CapstanTestSupport
import Foundation
import Testing

@Suite("LayerUnpacker")
struct LayerUnpackerTests {
    let unpacker = LayerUnpacker(logger: ImageTestSupport.logger)

    /// Two GNU-tar layers: the second deletes a file (`.wh.`) and makes a directory opaque (`.wh..wh..opq`).
    static func makeTwoLayers(in dir: String) throws -> (String, String) {
        let one = dir + "/one", two = dir + "/two"
        try ImageTestSupport.write([
            "a/keep.txt": "keep", "a/gone.txt": "gone", "opq/old1": "old", "opq/sub/old2": "old", "hard1": "linked",
            "exec.sh": "#!/bin/sh\n",
        ], under: one)
        try FileManager.default.createSymbolicLink(atPath: one + "/link", withDestinationPath: "a/keep.txt")
        try FileManager.default.linkItem(atPath: one + "/hard1", toPath: one + "/hard2")
        chmod(one + "/exec.sh", 0o755)
        try ImageTestSupport.write(["a/.wh.gone.txt": "", "opq/.wh..wh..opq": "", "opq/new.txt": "new", "b/added.txt": "added"], under: two)
        try ImageTestSupport.tar(one, to: dir + "/one.tar")
        try ImageTestSupport.tar(two, to: dir + "/two.tar.gz", gzip: true)
        return (dir + "/one.tar", dir + "/two.tar.gz")
    }

    static let expectedTree: [String: String] = [
        "a": "d", "a/keep.txt": "f:keep", "opq": "d", "opq/new.txt": "f:new", "b": "d", "b/added.txt": "f:added",
        "link": "l:a/keep.txt", "hard1": "f:linked", "hard2": "f:linked", "exec.sh": "f:#!/bin/sh\n",
    ]

    @Test func multiLayerImageWithWhiteoutsUnpacksToExactlyTheRightTree() async throws {
        try await ImageTestSupport.withScratch { dir in
            let (one, two) = try Self.makeTwoLayers(in: dir)
            let rootfs = dir + "/rootfs"
            try FileManager.default.createDirectory(atPath: rootfs, withIntermediateDirectories: true)
            try unpacker.unpack(archive: one, into: rootfs, whiteouts: .apply)
            let summary = try unpacker.unpack(archive: two, into: rootfs, whiteouts: .apply)
            #expect(summary.whiteouts == 2)
            #expect(try ImageTestSupport.tree(rootfs) == Self.expectedTree)
            var first = stat(), second = stat(), exec = stat()
            stat(rootfs + "/hard1", &first)
            stat(rootfs + "/hard2", &second)
            stat(rootfs + "/exec.sh", &exec)
            #expect(first.st_ino == second.st_ino)
            #expect(exec.st_mode & 0o777 == 0o755)
        }
    }

    @Test(Prerequisites.requires("overlayfs whiteouts", .root("overlayfs whiteouts and mount need it")))
    func overlayWhiteoutsMountToTheSameTree() async throws {
        try Prerequisites.require(.root("overlayfs whiteouts and mount need it"))
        try await ImageTestSupport.withScratch { dir in
            let (one, two) = try Self.makeTwoLayers(in: dir)
            for (archive, name) in [(one, "l1"), (two, "l2")] {
                try FileManager.default.createDirectory(atPath: dir + "/" + name, withIntermediateDirectories: true)
                try unpacker.unpack(archive: archive, into: dir + "/" + name, whiteouts: .overlay)
            }
            var st = stat()
            #expect(lstat(dir + "/l2/a/gone.txt", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR && st.st_rdev == 0)
            let merged = dir + "/merged"
            try FileManager.default.createDirectory(atPath: merged, withIntermediateDirectories: true)
            try ImageTestSupport.run(["mount", "-t", "overlay", "overlay", "-o", "lowerdir=\(dir)/l2:\(dir)/l1", merged])
            defer { _ = try? ImageTestSupport.run(["umount", merged]) }
            #expect(try ImageTestSupport.tree(merged) == Self.expectedTree)
        }
    }

    /// Writes a crafted tar with Python's tarfile (GNU tar will not write these).
    static func maliciousTar(_ kind: String, at path: String) throws {
        let script = """
            import io, sys, tarfile
            t = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT)
            def add(name, kind=tarfile.REGTYPE, data=b'pwned', link=''):
                info = tarfile.TarInfo(name); info.type = kind; info.linkname = link; info.mode = 0o644
                if kind == tarfile.DIRTYPE: info.mode = 0o755
                if kind == tarfile.REGTYPE: info.size = len(data); t.addfile(info, io.BytesIO(data))
                else: t.addfile(info)
            k = sys.argv[2]
            if k == 'dotdot': add('ok.txt'); add('../x')
            if k == 'absolute': add('/abs')
            if k == 'symlink-parent': add('link', tarfile.SYMTYPE, link=sys.argv[3]); add('link/evil')
            if k == 'hardlink-out': add('passwd', tarfile.LNKTYPE, link='/etc/passwd')
            if k == 'hardlink-dotdot': add('passwd', tarfile.LNKTYPE, link='../../../../etc/passwd')
            if k == 'device': add('dev', tarfile.DIRTYPE); add('dev/sda', tarfile.CHRTYPE)
            t.close()
            """
        try ImageTestSupport.run(["python3", "-c", script, path, kind, (path as NSString).deletingLastPathComponent + "/outside"])
    }

    /// Each malicious layer kind of ``maliciousTar(_:at:)``, the entry it names, and the reason it is refused.
    static let maliciousCases: [(String, String, String)] = [
        ("dotdot", "'../x'", "'..' component"),
        ("absolute", "'/abs'", "absolute path"),
        ("symlink-parent", "'link/evil'", "symlink"),
        ("hardlink-out", "'passwd'", "absolute path"),
        ("hardlink-dotdot", "'passwd'", "'..' component"),
        ("device", "'dev/sda'", "device nodes"),
    ]

    @Test(arguments: maliciousCases)
    func refusesMaliciousLayerNamingTheEntry(kind: String, entry: String, reason: String) async throws {
        try await ImageTestSupport.withScratch { dir in
            let archive = dir + "/\(kind).tar"
            try Self.maliciousTar(kind, at: archive)
            let outside = dir + "/outside"
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            let layer = dir + "/store/layer"
            try FileManager.default.createDirectory(atPath: layer, withIntermediateDirectories: true)
            let passwdBefore = try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd"))
            for mode in [LayerUnpacker.WhiteoutMode.apply, .markers] {
                let error = #expect(throws: CapstanError.self) { try unpacker.unpack(archive: archive, into: layer, whiteouts: mode) }
                #expect(error?.message.contains("refusing layer entry \(entry)") == true, "\(error?.message ?? "no error")")
                #expect(error?.message.contains(reason) == true, "\(error?.message ?? "no error")")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: dir + "/store/x"))
            #expect(!FileManager.default.fileExists(atPath: dir + "/x"))
            #expect(!FileManager.default.fileExists(atPath: "/abs"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd")) == passwdBefore)
            var st = stat()
            #expect(lstat(layer + "/passwd", &st) != 0, "no link to /etc/passwd inside the layer")
        }
    }

    @Test func computesTheDiffIDOfACompressedLayer() async throws {
        try await ImageTestSupport.withScratch { dir in
            try ImageTestSupport.write(["f": "x"], under: dir + "/l")
            try ImageTestSupport.tar(dir + "/l", to: dir + "/l.tar")
            try ImageTestSupport.run(["sh", "-c", "gzip -c \(dir)/l.tar > \(dir)/l.tar.gz"])
            let plain = try Digest.sha256(ofFile: dir + "/l.tar")
            #expect(try LayerUnpacker.uncompressedDigest(of: dir + "/l.tar.gz") == plain)
            #expect(try LayerUnpacker.uncompressedDigest(of: dir + "/l.tar") == plain)
        }
    }
}
