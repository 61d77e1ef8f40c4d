import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

@Suite("capstan image ls")
struct ImageListCommandTests {
    @Test func outputJSONListsEachImageWithItsManifestAndLayers() async throws {
        try await ImageTestSupport.withScratch { dir in
            let (_, images) = try Self.importOneImage(in: dir)
            #expect(images.count == 1)
            #expect(images.first?["name"] as? String == "docker.io/library/app:1")
            #expect(images.first?["layers"] as? Int == 1)
            #expect((images.first?["manifest"] as? String)?.hasPrefix("sha256:") == true)
            #expect((images.first?["size"] as? Int ?? 0) > 0)
        }
    }

    /// Imports a one-layer image as `app:1` into `DIR/work` through `capstan image import`; returns the work dir and
    /// `capstan image ls --output json`'s list.
    static func importOneImage(in dir: String) throws -> (work: String, images: [[String: Any]]) {
        try ImageTestSupport.write(["etc/os-release": "capstan"], under: dir + "/root")
        try ImageTestSupport.tar(dir + "/root", to: dir + "/root.tar.gz", gzip: true)
        let work = dir + "/work"
        _ = try ImageTestSupport.run([CapstanBinary.path, "image", "import", dir + "/root.tar.gz", "app:1", "--work-dir", work])
        let listed = try ImageTestSupport.run([CapstanBinary.path, "image", "ls", "--output", "json", "--work-dir", work])
        let images = try #require(try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]], "\(listed.output)")
        return (work, images)
    }
}
