import Foundation
import CapstanCore
import CapstanImage
import Testing

@Suite("ImageReference")
struct ImageReferenceTests {
    @Test func normalizesDockerHubShortNames() throws {
        #expect(try RegistryReference(parsing: "busybox").description == "docker.io/library/busybox:latest")
        #expect(try RegistryReference(parsing: "library/busybox:1").description == "docker.io/library/busybox:1")
        #expect(try RegistryReference(parsing: "busybox").endpointHost == "registry-1.docker.io")
    }

    @Test func parsesHostPortTagAndDigest() throws {
        let hex = String(repeating: "ab", count: 32)
        guard case .registry(let reference) = try ImageReference(parsing: "docker://127.0.0.1:5000/team/app@sha256:\(hex)") else {
            Issue.record("not a registry reference")
            return
        }
        #expect(reference.host == "127.0.0.1:5000")
        #expect(reference.repository == "team/app")
        #expect(reference.tag == nil)
        #expect(reference.manifestReference == "sha256:\(hex)")
        guard case .registry(let tagged) = try ImageReference(parsing: "localhost/app:v1.2") else { return }
        #expect(tagged.host == "localhost" && tagged.tag == "v1.2")
    }

    @Test func parsesLayoutAndArchiveTransports() throws {
        #expect(try ImageReference(parsing: "oci:/tmp/layout:1") == .ociLayout(path: "/tmp/layout", tag: "1"))
        #expect(try ImageReference(parsing: "oci:/tmp/layout") == .ociLayout(path: "/tmp/layout", tag: nil))
        #expect(try ImageReference(parsing: "oci-archive:/tmp/x.tar") == .ociArchive(path: "/tmp/x.tar", tag: nil))
        #expect(try ImageReference(parsing: "docker-archive:/tmp/x.tar:busybox:1") == .dockerArchive(path: "/tmp/x.tar", name: "busybox:1"))
    }

    @Test func rejectsBadReferences() {
        #expect(throws: CapstanError.self) { try ImageReference(parsing: "ftp://x/y") }
        #expect(throws: CapstanError.self) { try ImageReference(parsing: "Upper/Case") }
        #expect(throws: CapstanError.self) { try ImageReference(parsing: "busybox@sha256:123") }
        #expect(throws: CapstanError.self) { try Digest(parsing: "md5:abc") }
    }

    @Test func parsesBearerChallengesWithCommasInQuotes() throws {
        let challenge = try #require(AuthChallenge(header: #"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#))
        #expect(challenge.scheme == "bearer")
        #expect(challenge.parameters == ["realm": "https://auth.example/token", "service": "registry.example", "scope": "repository:a/b:pull,push"])
        #expect(AuthChallenge(header: #"Basic realm="x""#)?.scheme == "basic")
    }

    @Test func readsDockerConfigCredentials() async throws {
        try await ImageTestSupport.withScratch { dir in
            let auth = Data("me:pw".utf8).base64EncodedString()
            try ImageTestSupport.write(["config.json": #"{"auths":{"127.0.0.1:5000":{"auth":"\#(auth)"},"https://index.docker.io/v1/":{"username":"hub","password":"x"}}}"#], under: dir)
            let local = try DockerConfigFile.credentials(for: "127.0.0.1:5000", paths: [dir + "/config.json"])
            #expect(local == RegistryCredentials(username: "me", password: "pw"))
            #expect(try DockerConfigFile.credentials(for: "docker.io", paths: [dir + "/config.json"])?.username == "hub")
            #expect(try DockerConfigFile.credentials(for: "other", paths: [dir + "/config.json"]) == nil)
        }
    }
}
