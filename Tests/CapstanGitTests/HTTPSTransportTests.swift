import CapstanCore
import CapstanGit
import CapstanTestSupport
import Foundation
import Testing

/// https:// with a token and a CA of the test's own, through a smart-HTTP server the test starts.
/// Serialized: libgit2's https trust store is one per process.
@Suite("HTTPSTransport", .serialized, Prerequisites.requires("git transport test", .binaries(["git", "python3", "openssl"], alsoIn: GitTestSupport.gitCore)), .timeLimit(.minutes(2)))
struct HTTPSTransportTests {
    @Test func fetchesWithATokenAndACustomCA() async throws {
        try await GitFixture.with { fixture in
            let history = try await GitSourceConformance.history(fixture)
            try await HTTPSGitServer.with(fixture, token: "s3cret-token") { server in
                let remote = GitRemote(url: server.url, credentials: .token(server.token), caFile: server.caFile)
                let source = LibGit2Source(remote: remote, cachePath: fixture.cachePath)
                #expect(try await source.remoteHead(ref: "main")?.hex == history.second)
                try await source.fetch()
                #expect(try await source.resolve("main").hex == history.second)
                #expect(try await source.resolve("feature").hex == history.feature)
                let files = try await source.files(at: CommitID(hex: history.second), under: "apps")
                #expect(files.map { String(decoding: $0.contents, as: UTF8.self) } == ["db: 2\n", "web: 1\n"])
                // A user in the URL is used instead of x-access-token.
                let withUser = GitRemote(
                    url: server.url.replacingOccurrences(of: "https://", with: "https://deploy@"),
                    credentials: .token(server.token), caFile: server.caFile)
                #expect(try await LibGit2Source(remote: withUser, cachePath: fixture.cachePath + "2").remoteHead(ref: "v1")?.hex == history.first)
            }
        }
    }

    @Test func aWrongTokenFailsWithAClearErrorAndFetchesNothing() async throws {
        try await GitFixture.with { fixture in
            _ = try await GitSourceConformance.history(fixture)
            try await HTTPSGitServer.with(fixture, token: "right") { server in
                let remote = GitRemote(url: server.url, credentials: .token("wrong"), caFile: server.caFile)
                let source = LibGit2Source(remote: remote, cachePath: fixture.cachePath)
                let error = await #expect(throws: CapstanError.self) { try await source.fetch() }
                #expect(error?.code == .permissionDenied)
                #expect(error?.message.contains("refused the token") == true)
                #expect(!(error?.message.contains("wrong") ?? true), "the token must not appear in errors")
                await #expect(throws: CapstanError.self) { try await source.resolve("main") }

                let anonymous = LibGit2Source(remote: GitRemote(url: server.url, caFile: server.caFile), cachePath: fixture.cachePath)
                let missing = await #expect(throws: CapstanError.self) { try await anonymous.remoteHead(ref: "main") }
                #expect(missing?.message.contains("asks for credentials") == true)
            }
        }
    }

    @Test func aServerSignedByAnUnknownCAIsRefused() async throws {
        try await GitFixture.with { fixture in
            _ = try await GitSourceConformance.history(fixture)
            try await HTTPSGitServer.with(fixture, token: "t") { server in
                let source = LibGit2Source(remote: GitRemote(url: server.url, credentials: .token("t")), cachePath: fixture.cachePath)
                let error = await #expect(throws: CapstanError.self) { try await source.fetch() }
                #expect(error?.code == .permissionDenied)
                #expect(error?.message.contains("is not trusted") == true)
            }
        }
    }

    @Test func credentialsThatDoNotFitTheTransportAreRefusedBeforeConnecting() async throws {
        try await GitFixture.with { fixture in
            let cases: [(GitRemote, String)] = [
                (GitRemote(url: "http://127.0.0.1:1/r.git", credentials: .token("t")), "only over https://"),
                (GitRemote(url: "ssh://git@127.0.0.1:1/r.git", credentials: .token("t")), "needs a private key"),
                (GitRemote(url: fixture.path, caFile: "/nonexistent.pem"), "only to https://"),
                (GitRemote(url: "https://127.0.0.1:1/r.git", caFile: fixture.path + "/missing.pem"), "cannot read the CA file"),
                (GitRemote(url: "ssh://git@127.0.0.1:1/r.git", credentials: .sshKey(privateKeyPath: "/nonexistent", passphrase: nil)),
                 "cannot read the ssh private key"),
            ]
            for (remote, expected) in cases {
                let source = LibGit2Source(remote: remote, cachePath: fixture.cachePath)
                let error = await #expect(throws: CapstanError.self) { try await source.remoteHead(ref: "main") }
                #expect(error?.message.contains(expected) == true, "\(remote): \(error.map(String.init(describing:)) ?? "no error")")
            }
        }
    }
}
