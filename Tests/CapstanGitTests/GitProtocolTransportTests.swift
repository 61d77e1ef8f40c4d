import CapstanCore
import CapstanGit
import CapstanTestSupport
import Foundation
import Testing

/// git:// through a `git daemon` the test starts on 127.0.0.1.
@Suite("GitProtocolTransport", .serialized, Prerequisites.requires("git transport test", .binaries(["git", "git-daemon"], alsoIn: GitTestSupport.gitCore)), .timeLimit(.minutes(2)))
struct GitProtocolTransportTests {
    @Test func fetchesAndReadsOverGitProtocol() async throws {
        try await GitFixture.with { fixture in
            let history = try await GitSourceConformance.history(fixture)
            try await GitDaemonServer.with(fixture) { url in
                let source = LibGit2Source(remote: GitRemote(url: url), cachePath: fixture.cachePath)
                #expect(try await source.remoteHead(ref: "main")?.hex == history.second)
                #expect(try await source.remoteDefaultBranch() == "main")
                try await source.fetch()
                #expect(try await source.resolve("main").hex == history.second)
                #expect(try await source.resolve("v1").hex == history.first)
                let apps = try await source.files(at: CommitID(hex: history.second), under: "apps")
                #expect(apps.map(\.path) == ["apps/db.yaml", "apps/web.yaml"])

                try fixture.write("apps/web.yaml", "web: 3\n")
                let third = try await fixture.commit("third")
                #expect(try await source.remoteHead(ref: "main")?.hex == third)
                try await source.fetch()
                let changes = try await source.changes(from: CommitID(hex: history.second), to: CommitID(hex: third), under: "apps", matching: { _ in true })
                #expect(changes.map(\.description) == ["modified apps/web.yaml"])
            }
        }
    }

    @Test func aPickedPortAnotherProcessListensOnIsRetriedOnAnother() async throws {
        try await GitFixture.with { fixture in
            let history = try await GitSourceConformance.history(fixture)
            // Another process's listener holds the first port handed out: the daemon cannot take it and the fixture
            // starts it again on the next one instead of failing (or fetching from the other listener).
            let taken = ListeningSocket()
            var ports = [taken.port]
            try await GitDaemonServer.with(fixture, ports: { ports.isEmpty ? FreePort.next() : ports.removeFirst() }) { url in
                #expect(!url.contains(":\(taken.port)/"))
                let source = LibGit2Source(remote: GitRemote(url: url), cachePath: fixture.cachePath)
                try await source.fetch()
                #expect(try await source.resolve("main").hex == history.second)
            }
            #expect(ports.isEmpty, "the taken port was tried first")
            withExtendedLifetime(taken) {}
        }
    }

    @Test func aStoppedDaemonIsReportedAsUnavailable() async throws {
        try await GitFixture.with { fixture in
            _ = try await GitSourceConformance.history(fixture)
            let closed = ClosedPort()
            let port = closed.port
            let source = LibGit2Source(remote: GitRemote(url: "git://127.0.0.1:\(port)/origin"), cachePath: fixture.cachePath)
            let error = await #expect(throws: CapstanError.self) { try await source.fetch() }
            #expect(error?.code == .unavailable)
            #expect(error?.message.contains("git://127.0.0.1:\(port)/origin") == true)
            withExtendedLifetime(closed) {}
        }
    }
}
