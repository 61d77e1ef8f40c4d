import CapstanCore
import CapstanGit
import CapstanTestSupport
import Foundation
import Testing

/// ssh:// with a private key and a known_hosts file, through an sshd the test starts on 127.0.0.1.
@Suite("SSHTransport", .serialized, Prerequisites.requires("git transport test", .binaries(["git", "sshd", "ssh-keygen"], alsoIn: GitTestSupport.gitCore)), .timeLimit(.minutes(2)))
struct SSHTransportTests {
    @Test func libgit2WasBuiltWithSSH() {
        #expect(LibGit2Source.supportsSSH, "Debian's libgit2 links libssh2; without it ssh:// remotes are refused")
    }

    @Test func fetchesWithAKeyCheckedAgainstKnownHosts() async throws {
        try await GitFixture.with { fixture in
            let history = try await GitSourceConformance.history(fixture)
            try await SSHGitServer.with(fixture) { server in
                let remote = GitRemote(
                    url: server.url, credentials: .sshKey(privateKeyPath: server.clientKey, passphrase: nil),
                    knownHostsFile: server.knownHosts)
                let source = LibGit2Source(remote: remote, cachePath: fixture.cachePath)
                #expect(try await source.remoteHead(ref: "main")?.hex == history.second)
                try await source.fetch()
                #expect(try await source.resolve("main").hex == history.second)
                #expect(try await source.files(at: CommitID(hex: history.first), under: "jobs").map(\.path) == ["jobs/migrate.yaml"])

                // The same host, listed under a hashed name (ssh-keygen -H), is recognised too.
                try await GitTestSupport.run(["ssh-keygen", "-q", "-H", "-f", server.knownHosts], in: server.directory)
                #expect(try String(contentsOfFile: server.knownHosts, encoding: .utf8).hasPrefix("|1|"))
                #expect(try await source.remoteHead(ref: "v1")?.hex == history.first)
            }
        }
    }

    @Test func unknownAndMismatchedHostKeysAreRefused() async throws {
        try await GitFixture.with { fixture in
            _ = try await GitSourceConformance.history(fixture)
            try await SSHGitServer.with(fixture) { server in
                let credentials = GitCredentials.sshKey(privateKeyPath: server.clientKey, passphrase: nil)

                let otherHost = server.directory + "/other_known_hosts"
                try "[127.0.0.1]:1 \(server.hostPublicKey)\n".write(toFile: otherHost, atomically: true, encoding: .utf8)
                let unknown = LibGit2Source(
                    remote: GitRemote(url: server.url, credentials: credentials, knownHostsFile: otherHost), cachePath: fixture.cachePath)
                let unknownError = await #expect(throws: CapstanError.self) { try await unknown.fetch() }
                #expect(unknownError?.code == .permissionDenied)
                #expect(unknownError?.message.contains("[127.0.0.1]:\(server.port) is not in the known_hosts file") == true)
                #expect(unknownError?.message.contains("SHA256:") == true)

                try await GitTestSupport.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "impostor"], in: server.directory)
                let impostor = try String(contentsOfFile: server.directory + "/impostor.pub", encoding: .utf8)
                    .split(separator: " ").prefix(2).joined(separator: " ")
                let mismatched = server.directory + "/mismatched_known_hosts"
                try "127.0.0.1,[127.0.0.1]:\(server.port) \(impostor)\n".write(toFile: mismatched, atomically: true, encoding: .utf8)
                let changed = LibGit2Source(
                    remote: GitRemote(url: server.url, credentials: credentials, knownHostsFile: mismatched), cachePath: fixture.cachePath)
                let changedError = await #expect(throws: CapstanError.self) { try await changed.remoteHead(ref: "main") }
                #expect(changedError?.message.contains("does not match") == true)

                let revoked = server.directory + "/revoked_known_hosts"
                try "[127.0.0.1]:\(server.port) \(server.hostPublicKey)\n@revoked * \(server.hostPublicKey)\n"
                    .write(toFile: revoked, atomically: true, encoding: .utf8)
                let revokedSource = LibGit2Source(
                    remote: GitRemote(url: server.url, credentials: credentials, knownHostsFile: revoked), cachePath: fixture.cachePath)
                let revokedError = await #expect(throws: CapstanError.self) { try await revokedSource.remoteHead(ref: "main") }
                #expect(revokedError?.message.contains("@revoked") == true)
                #expect(!FileManager.default.fileExists(atPath: fixture.cachePath + "/refs/remotes/origin/main"))
            }
        }
    }

    @Test func aKeyTheServerDoesNotAuthoriseIsRefused() async throws {
        try await GitFixture.with { fixture in
            _ = try await GitSourceConformance.history(fixture)
            try await SSHGitServer.with(fixture) { server in
                try await GitTestSupport.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "stranger"], in: server.directory)
                let remote = GitRemote(
                    url: server.url, credentials: .sshKey(privateKeyPath: server.directory + "/stranger", passphrase: nil),
                    knownHostsFile: server.knownHosts)
                let source = LibGit2Source(remote: remote, cachePath: fixture.cachePath)
                let error = await #expect(throws: CapstanError.self) { try await source.fetch() }
                #expect(error?.code == .permissionDenied)
                #expect(error?.message.contains("refused the ssh key") == true)

                let keyless = LibGit2Source(remote: GitRemote(url: server.url, knownHostsFile: server.knownHosts), cachePath: fixture.cachePath)
                let keylessError = await #expect(throws: CapstanError.self) { try await keyless.remoteHead(ref: "main") }
                #expect(keylessError?.message.contains("asks for credentials") == true)
            }
        }
    }
}
