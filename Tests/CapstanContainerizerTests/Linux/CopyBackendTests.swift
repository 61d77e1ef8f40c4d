import CLinux
import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc
import Testing

@Suite("Copy rootfs backend", .serialized, LinuxPrerequisites.trait)
struct CopyBackendTests {
    /// Two layers over the busybox one, as the image store unpacks them for overlayfs (root): the second deletes
    /// `a/gone.txt` (a 0:0 character device) and makes `opq` opaque (`trusted.overlay.opaque=y`) with new content.
    static func overlayStyleLayers(_ fx: LinuxFixture) throws -> [String] {
        let one = fx.base + "/l1", two = fx.base + "/l2"
        try write(["a/keep.txt": "keep", "a/gone.txt": "gone", "opq/old1": "old", "opq/sub/old2": "old"], under: one)
        try write(["opq/new.txt": "new", "b/added.txt": "added"], under: two)
        try FileManager.default.createDirectory(atPath: two + "/a", withIntermediateDirectories: true)
        #expect(mknod(two + "/a/gone.txt", S_IFCHR | 0o000, 0) == 0, "mknod of a whiteout: errno \(errno)")
        #expect(setxattr(two + "/opq", "trusted.overlay.opaque", "y", 1, 0) == 0, "opaque xattr: errno \(errno)")
        return [fx.layer, one, two]
    }

    /// The same two layers with OCI markers instead (`.wh.gone.txt`, `.wh..wh..opq`), as an unprivileged store keeps them.
    static func markerStyleLayers(_ fx: LinuxFixture) throws -> [String] {
        let one = fx.base + "/m1", two = fx.base + "/m2"
        try write(["a/keep.txt": "keep", "a/gone.txt": "gone", "opq/old1": "old", "opq/sub/old2": "old"], under: one)
        try write(["a/.wh.gone.txt": "", "opq/.wh..wh..opq": "", "opq/new.txt": "new", "b/added.txt": "added"], under: two)
        return [fx.layer, one, two]
    }

    static func write(_ files: [String: String], under root: String) throws {
        for (path, content) in files {
            let full = root + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try content.write(toFile: full, atomically: false, encoding: .utf8)
        }
    }

    /// Lists the test trees inside the container (`find` output, sorted) and their file contents.
    static let listing = "cd / && find a b opq | sort && cat a/keep.txt opq/new.txt b/added.txt"
    static let expected = "a\na/keep.txt\nb\nb/added.txt\nopq\nopq/new.txt\nkeepnewadded"

    func run(_ fx: LinuxFixture, _ preference: OverlayProvisioner.Preference, layers: [String]) async throws -> String {
        let containerizer = Containerizer(
            launcher: fx.launcher(OverlayProvisioner(preference: preference)), isolators: [], logger: quietLogger)
        try? FileManager.default.removeItem(atPath: fx.sandbox + "/stdout")
        let config = fx.config(Self.listing, rootfs: .layers(layers))
        try await containerizer.launch(config)
        let termination = try await within { try await containerizer.wait(config.containerID) }
        #expect(termination.exitStatus == 0, "\(preference): \(fx.read("stderr"))")
        return fx.read("stdout")
    }

    @Test func copyAppliesOverlayWhiteoutsAndOpaqueDirectoriesExactlyAsOverlayfsDoes() async throws {
        try await LinuxFixture.with { fx in
            let layers = try Self.overlayStyleLayers(fx)
            let overlay = try await run(fx, .overlay, layers: layers)
            let copy = try await run(fx, .copy, layers: layers)
            #expect(overlay == Self.expected, "overlayfs")
            #expect(copy == overlay, "the copy backend sees what overlayfs shows")
            #expect(FileManager.default.fileExists(atPath: fx.base + "/l1/opq/sub/old2"), "layers are never written")
        }
    }

    @Test func copyAppliesOCIWhiteoutAndOpaqueMarkers() async throws {
        try await LinuxFixture.with { fx in
            let copy = try await run(fx, .copy, layers: try Self.markerStyleLayers(fx))
            #expect(copy == Self.expected)
            #expect(FileManager.default.fileExists(atPath: fx.base + "/m1/a/gone.txt"), "layers are never written")
        }
    }
}
