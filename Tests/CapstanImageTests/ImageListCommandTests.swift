import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

@Suite("capstan image ls")
struct ImageListCommandTests {
    @Test func outputJSONListsEachImageWithItsManifestAndLayers() async throws {
        try await ImageTestSupport.withScratch { dir in
            try ImageTestSupport.write(["etc/os-release": "capstan"], under: dir + "/root")
            try ImageTestSupport.tar(dir + "/root", to: dir + "/root.tar.gz", gzip: true)
            let work = dir + "/work"
            _ = try ImageTestSupport.run([CapstanBinary.path, "image", "import", dir + "/root.tar.gz", "app:1", "--work-dir", work])
            let listed = try ImageTestSupport.run([CapstanBinary.path, "image", "ls", "--output", "json", "--work-dir", work])
            let images = try #require(try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]], "\(listed.output)")
            #expect(images.count == 1)
            #expect(images.first?["name"] as? String == "docker.io/library/app:1")
            #expect(images.first?["layers"] as? Int == 1)
            #expect((images.first?["manifest"] as? String)?.hasPrefix("sha256:") == true)
            #expect((images.first?["size"] as? Int ?? 0) > 0)
        }
    }
}
