import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// The sandbox files API of a real agent, attacked as a task would: FIFOs, symlinks, hard links and escapes.
    @Suite("Sandbox files against hostile sandboxes")
    struct SandboxFilesEndToEndTests {
        static let secret = "HOST-SECRET-7f3a9c"

        @Test("FIFOs, symlinks, hard links and escapes get the same 404 at once, and the agent keeps answering")
        func hostileSandboxEntriesAreRefused() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch([TestTasks.command("victim", "echo served; sleep 60", agent: offer.agentID)], on: [offer])
                try await scheduler.update("victim", .taskRunning)
                let workDir = cluster.agents[0].workDir
                let sandbox = try #require(OperatorAPITests.sandbox(of: "victim", workDir: workDir), "sandbox of the task")
                // What a task could do in its sandbox (done here, as root, whatever user tasks run as).
                let secretFile = workDir + "/host-secret"
                try Data(Self.secret.utf8).write(to: URL(fileURLWithPath: secretFile))
                #expect(mkfifo(sandbox + "/pipe", 0o644) == 0)
                try FileManager.default.createSymbolicLink(atPath: sandbox + "/shadow", withDestinationPath: secretFile)
                #expect(link(secretFile, sandbox + "/hard") == 0)

                let agent = OperatorClient(cluster.agents[0].endpoint)
                try await eventually("stdout written") {
                    try await agent.get("/files/read?path=\(sandbox)/stdout&offset=0").text.contains("served")
                }
                // Four concurrent reads of the FIFO used to hang the agent: now each is a prompt 404.
                let clock = ContinuousClock()
                let started = clock.now
                let replies = try await withThrowingTaskGroup(of: JSONPoster.Reply.self) { group in
                    for _ in 0..<4 { group.addTask { try await agent.get("/files/read?path=\(sandbox)/pipe&offset=0") } }
                    group.addTask { try await agent.get("/files/browse?path=\(sandbox)/pipe") }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(replies.allSatisfy { $0.status == 404 }, "\(replies.map(\.status))")
                #expect(clock.now - started < .seconds(3))
                let health = try await agent.get("/health")
                #expect(health.status == 200)
                #expect(try await agent.get("/files/read?path=\(sandbox)/stdout&offset=0").text.contains("served"))

                // Symlinks and hard links to host files, and escapes, are refused; the listing shows the symlink as one.
                for path in [sandbox + "/shadow", sandbox + "/hard", sandbox + "/../../../../../../../host-secret", secretFile] {
                    let reply = try await agent.get("/files/read?path=\(path)&offset=0")
                    #expect(reply.status == 404, "\(path): \(reply.status)")
                    #expect(!reply.text.contains(Self.secret))
                }
                let listing = try JSONSerialization.jsonObject(with: try await agent.get("/files/browse?path=\(sandbox)").body) as? [[String: Any]] ?? []
                let shadow = listing.first { ($0["path"] as? String)?.hasSuffix("/shadow") == true }
                #expect((shadow?["mode"] as? String)?.hasPrefix("l") == true)

                // A host path that exists and one that does not get the same answer but for the echoed path.
                let existing = try await agent.get("/files/read?path=/etc/passwd&offset=0")
                let missing = try await agent.get("/files/read?path=/etc/passwx&offset=0")
                #expect(existing.status == 404 && missing.status == 404)
                #expect(existing.text.replacingOccurrences(of: "/etc/passwd", with: "PATH") == missing.text.replacingOccurrences(of: "/etc/passwx", with: "PATH"))
                #expect(existing.text == "No such file or directory: /etc/passwd")
                await scheduler.disconnect()
            }
        }

        @Test("A file swapped with a symlink to a host file for 2,000 reads serves no host byte")
        func symlinkSwapRaceThroughTheAgent() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch([TestTasks.command("racer", "echo harmless > file; sleep 60", agent: offer.agentID)], on: [offer])
                try await scheduler.update("racer", .taskRunning)
                let workDir = cluster.agents[0].workDir
                let sandbox = try #require(OperatorAPITests.sandbox(of: "racer", workDir: workDir), "sandbox of the task")
                let secretFile = workDir + "/host-secret"
                try Data(Self.secret.utf8).write(to: URL(fileURLWithPath: secretFile))
                let agent = OperatorClient(cluster.agents[0].endpoint)
                try await eventually("file written") {
                    try await agent.get("/files/read?path=\(sandbox)/file&offset=0").text.contains("harmless")
                }
                let path = sandbox + "/file", aside = sandbox + "/file.aside"
                let stop = Stopper()
                let swapper = Thread {
                    while !stop.stopped {
                        _ = rename(path, aside)
                        _ = symlink(secretFile, path)
                        _ = unlink(path)
                        _ = rename(aside, path)
                    }
                    stop.finish()
                }
                swapper.start()
                var served = 0, leaked = 0
                for _ in 0..<2_000 {
                    let reply = try await agent.get("/files/read?path=\(path)&offset=0")
                    if reply.status == 200 { served += 1 }
                    if reply.text.contains(Self.secret) { leaked += 1 }
                }
                await stop.stopAndWait()
                #expect(leaked == 0)
                #expect(served > 0)
                await scheduler.disconnect()
            }
        }
    }
}

/// Stops a background thread and waits for it.
final class Stopper: @unchecked Sendable {
    private let lock = NSLock()
    private var stopFlag = false
    private var finished = false

    var stopped: Bool { lock.withLock { stopFlag } }
    func finish() { lock.withLock { finished = true } }

    func stopAndWait() async {
        lock.withLock { stopFlag = true }
        while !lock.withLock({ finished }) { try? await Task.sleep(for: .milliseconds(5)) }
    }
}
