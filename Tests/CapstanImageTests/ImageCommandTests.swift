import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

/// `capstan image …` end to end: the real binary, a real registry.
@Suite("ImageCommand", .serialized, Prerequisites.requires("image test", .binaries("docker-registry", "skopeo", "busybox")))
struct ImageCommandTests {
    static func capstan(_ arguments: [String], workDir: String, allowFailure: Bool = false) throws -> (status: Int32, output: String) {
        try ImageTestSupport.run([CapstanBinary.path, "image"] + arguments + ["--work-dir", workDir], allowFailure: allowFailure)
    }

    @Test func importListPushRemovePullAndPruneThroughTheCLI() async throws {
        try Prerequisites.require(.binaries("docker-registry", "skopeo", "busybox"))
        try await ImageTestSupport.withScratch { dir in
            let work = dir + "/work"
            let tarball = try ImageTestSupport.busyboxRootfs(in: dir)
            let imported = try Self.capstan(["import", tarball, "busybox:1", "--cmd", "/bin/sh"], workDir: work).output
            #expect(imported.contains("Imported docker.io/library/busybox:1"))
            let listed = try Self.capstan(["ls"], workDir: work).output
            #expect(listed.contains("NAME") && listed.contains("docker.io/library/busybox:1"))

            try await LocalRegistry.with(in: dir) { registry in
                try Self.capstan(["save", "busybox:1", "oci:\(dir)/layout:1"], workDir: work)
                try registry.push(layout: dir + "/layout", tag: "1", to: "busybox:1")
                try Self.capstan(["rm", "busybox:1"], workDir: work)
                #expect(try Self.capstan(["ls", "--quiet"], workDir: work).output.isEmpty)
                let missing = try Self.capstan(["rm", "busybox:1"], workDir: work, allowFailure: true)
                #expect(missing.status != 0 && missing.output.contains("no image named 'busybox:1'"))

                let pulled = try Self.capstan(
                    ["pull", "docker://\(registry.host)/busybox:1", "--insecure-registry", registry.host], workDir: work).output
                #expect(pulled.contains("Pulled \(registry.host)/busybox:1"))
                #expect(try Self.capstan(["ls", "--quiet"], workDir: work).output == "\(registry.host)/busybox:1\n")
            }
            // The pulled image may have compressed layers, so the imported layer blob is now unused.
            let pruned = try Self.capstan(["prune"], workDir: work).output
            #expect(pruned.contains("Removed"))
            let remaining = try Self.capstan(["ls", "--quiet"], workDir: work).output.trimmingCharacters(in: .newlines)
            try Self.capstan(["rm", remaining], workDir: work)
            let all = try Self.capstan(["prune"], workDir: work).output
            #expect(all.contains("Removed 3 blobs"), "\(all)")
            let blobs = try FileManager.default.contentsOfDirectory(atPath: work + "/images/content/blobs/sha256")
            #expect(blobs.isEmpty)
        }
    }

    @Test func pullOfAMissingImageFailsWithAClearMessage() async throws {
        try Prerequisites.require(.binaries("docker-registry"))
        try await ImageTestSupport.withScratch { dir in
            try await LocalRegistry.with(in: dir) { registry in
                let result = try Self.capstan(["pull", "\(registry.host)/nope:1", "--insecure-registry", registry.host], workDir: dir + "/work", allowFailure: true)
                #expect(result.status != 0)
                #expect(result.output.contains("answered 404"), "\(result.output)")
            }
        }
    }
}
