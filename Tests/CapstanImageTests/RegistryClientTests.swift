import CapstanCore
import CapstanImage
import CapstanTestSupport
import Foundation
import Testing

/// Registry auth and transport against Debian's docker-registry on 127.0.0.1: bearer tokens from a token service
/// (the `WWW-Authenticate` challenge flow), TLS with a custom CA, and which hosts are spoken to over plain HTTP.
@Suite("RegistryClient", .serialized)
struct RegistryClientTests {
    @Test func plainHTTPHostsMatchHostAndPortOrTheBareHost() {
        let exact = RegistryOptions(insecureRegistries: ["registry.test:5000"])
        #expect(exact.isInsecure("registry.test:5000"))
        #expect(!exact.isInsecure("registry.test:5001"))
        #expect(!exact.isInsecure("registry.test"))
        let bare = RegistryOptions(insecureRegistries: ["127.0.0.1"])
        #expect(bare.isInsecure("127.0.0.1:41234"))
        #expect(bare.isInsecure("127.0.0.1"))
        #expect(!bare.isInsecure("127.0.0.2:41234"))
    }

    @Test(
        "Pulls through the bearer-token flow: 401 challenge, token from the realm with service and scope, retry with the token",
        Prerequisites.requires("image test", .binaries("docker-registry", "skopeo", "busybox", "openssl", "python3")))
    func pullsWithBearerTokensFromATokenService() async throws {
        try Prerequisites.require(.binaries("docker-registry", "skopeo", "busybox", "openssl", "python3"))
        try await ImageTestSupport.withScratch { dir in
            let (layout, config) = try await RegistryPullTests.busyboxLayout(in: dir)
            try await TokenService.with(in: dir, repository: "team/busybox") { tokens in
                try await LocalRegistry.with(in: dir, token: tokens.auth) { registry in
                    try registry.push(layout: layout, tag: "1", to: "team/busybox:1", credentials: tokens.credentials)
                    let name = "\(registry.host)/team/busybox:1"

                    // No credentials: the token service refuses, and the pull says so.
                    let anonymous = try ImageStore(
                        root: dir + "/anonymous", options: RegistryOptions(insecureRegistries: [registry.host], authFiles: []), logger: ImageTestSupport.logger)
                    let refused = await #expect(throws: CapstanError.self) { try await anonymous.pull(name) }
                    #expect(refused?.code == .permissionDenied)
                    #expect(refused?.message.contains("token service") == true, "\(refused?.description ?? "")")

                    let before = tokens.requests.count
                    let store = try ImageStore(
                        root: dir + "/pulled",
                        options: RegistryOptions(
                            insecureRegistries: [registry.host], credentials: [registry.host: RegistryCredentials(username: "token-user", password: "token-pass")],
                            authFiles: []),
                        logger: ImageTestSupport.logger)
                    try await store.pull(name)
                    try await RegistryPullTests.checkPulled(store, name: name, config: config)

                    let ours = tokens.requests.dropFirst(before).map { $0.removingPercentEncoding ?? $0 }
                    #expect(ours.count == 1, "one token for the whole pull: \(ours)")
                    let request = try #require(ours.first)
                    #expect(request.hasPrefix("/token?"), "\(request)")
                    #expect(request.contains("service=\(TokenService.service)"), "\(request)")
                    #expect(request.contains("scope=repository:team/busybox:pull"), "\(request)")
                    #expect(request.hasSuffix("\tBasic " + Data("token-user:token-pass".utf8).base64EncodedString()), "the credentials go to the token service: \(request)")
                }
            }
        }
    }

    /// A CA and a server certificate for 127.0.0.1 signed by it, made with openssl.
    static func makeCertificates(in dir: String) throws -> (ca: String, certificate: String, key: String) {
        let ca = dir + "/ca.pem", caKey = dir + "/ca-key.pem", cert = dir + "/server.pem", key = dir + "/server-key.pem"
        try ImageTestSupport.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey, "-out", ca, "-days", "1", "-subj", "/CN=capstan-test-ca"])
        try ImageTestSupport.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", dir + "/server.csr", "-subj", "/CN=127.0.0.1"])
        try Data("subjectAltName=IP:127.0.0.1\n".utf8).write(to: URL(fileURLWithPath: dir + "/san.ext"))
        try ImageTestSupport.run([
            "openssl", "x509", "-req", "-in", dir + "/server.csr", "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-out", cert, "-days", "1",
            "-extfile", dir + "/san.ext",
        ])
        return (ca, cert, key)
    }

    @Test(
        "Pulls over TLS from a registry whose certificate is signed by a CA given in the options, and refuses it without",
        Prerequisites.requires("image test", .binaries("docker-registry", "skopeo", "busybox", "openssl")))
    func pullsOverTLSTrustingACustomCA() async throws {
        try Prerequisites.require(.binaries("docker-registry", "skopeo", "busybox", "openssl"))
        try await ImageTestSupport.withScratch { dir in
            let (layout, config) = try await RegistryPullTests.busyboxLayout(in: dir)
            let tls = try Self.makeCertificates(in: dir)
            try await LocalRegistry.with(in: dir, tls: (tls.certificate, tls.key)) { registry in
                try registry.push(layout: layout, tag: "1", to: "busybox:1")
                let untrusted = try ImageStore(root: dir + "/untrusted", options: RegistryOptions(authFiles: []), logger: ImageTestSupport.logger)
                let error = await #expect(throws: CapstanError.self) { try await untrusted.pull("\(registry.host)/busybox:1") }
                #expect(error?.code == .unavailable, "\(error?.description ?? "")")

                let store = try ImageStore(
                    root: dir + "/pulled", options: RegistryOptions(certificateAuthorities: [tls.ca], authFiles: []), logger: ImageTestSupport.logger)
                try await store.pull("\(registry.host)/busybox:1")
                try await RegistryPullTests.checkPulled(store, name: "\(registry.host)/busybox:1", config: config)

                let bad = try ImageStore(root: dir + "/bad", options: RegistryOptions(certificateAuthorities: [dir + "/no-such-ca.pem"]), logger: ImageTestSupport.logger)
                let unreadable = await #expect(throws: CapstanError.self) { try await bad.pull("\(registry.host)/busybox:1") }
                #expect(unreadable?.code == .invalidArgument)
                #expect(unreadable?.message.contains("no-such-ca.pem") == true, "\(unreadable?.description ?? "")")
            }
        }
    }
}
