import CapstanCore
import Glibc
import CapstanReconciler
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// The errors a new user meets first read as one sentence naming the component, the address and the flag.
    @Suite("First-contact errors", .serialized)
    struct FirstContactErrorTests {
        @Test("a taken port names the component, the address and the flag to pass")
        func takenPorts() async throws {
            try await TestCluster().run { cluster in
                try await cluster.startMaster()
                let taken = cluster.master.description
                let master = try await DiffCommandTests.run([
                    CapstanBinary.path, "master", "--listen", taken, "--work-dir", cluster.scratch + "/second-master", "--insecure",
                ])
                #expect(master.status == 1, "\(master.status)")
                #expect(master.stderr.contains("the master cannot listen on \(taken): address in use") && master.stderr.contains("pass --listen"), "\(master.stderr)")
                let reconciler = try await DiffCommandTests.run([
                    CapstanBinary.path, "reconcile", "--listen", taken, "--master", taken, "--repo", cluster.scratch,
                    "--work-dir", cluster.scratch + "/reconciler",
                ])
                #expect(reconciler.status == 1)
                #expect(reconciler.stderr.contains("the reconciler cannot listen on \(taken): address in use") && reconciler.stderr.contains("pass --listen"), "\(reconciler.stderr)")
                #expect(!reconciler.stderr.contains("errno"), "no raw socket error reaches the user: \(reconciler.stderr)")
                let up = try await DiffCommandTests.run([
                    CapstanBinary.path, "up", "--listen", "127.0.0.1:0", "--agent-listen", "127.0.0.1:0", "--reconciler-listen", taken,
                    "--work-dir", cluster.scratch + "/up",
                ], in: cluster.scratch)
                #expect(up.status != 0 && up.stderr.contains("the reconciler cannot listen on \(taken)") && up.stderr.contains("pass --reconciler-listen"), "\(up.stderr)")
            }
        }

        @Test("--master pointed at an agent says so, for every command that reads the master, instead of an empty cluster or no reconciler")
        func masterFlagAtAnAgent() async throws {
            try await TestCluster().run { cluster in
                try await cluster.startMaster()
                let agent = try await cluster.startAgent()
                let wrong = agent.endpoint.description
                let expected = "\(wrong) is an agent, not a master; pass the master's address with --master (or CAPSTAN_MASTER)"
                try await ValidateCommandTests.git(cluster.scratch, "init", "-q", "-b", "main")
                try GitOpsFixture.app("web", instances: 1).write(toFile: cluster.scratch + "/web.yaml", atomically: true, encoding: .utf8)
                try await ValidateCommandTests.git(cluster.scratch, "add", "web.yaml")
                try await ValidateCommandTests.git(cluster.scratch, "commit", "-q", "-m", "web")
                for arguments in [
                    ["status", "--master", wrong], ["app", "list", "--master", wrong], ["app", "get", "web", "--master", wrong],
                    ["logs", "web", "--master", wrong], ["diff", "--against", "live", "--master", wrong, "--repo", cluster.scratch],
                ] {
                    let run = try await DiffCommandTests.run([CapstanBinary.path] + arguments, in: cluster.scratch)
                    #expect(run.status != 0 && run.status != 2, "\(arguments): exit \(run.status)")
                    #expect(run.stderr.contains(expected), "\(arguments): \(run.stderr)\(run.stdout)")
                }
                // The daemons say it in their logs and keep retrying.
                let reconciler = try CapstanProcess(
                    arguments: ["reconcile", "--master", wrong, "--repo", cluster.scratch, "--listen", "127.0.0.1:0", "--work-dir", cluster.scratch + "/reconciler"],
                    logPath: cluster.scratch + "/reconciler.log")
                let second = try CapstanProcess(
                    arguments: ["agent", "--insecure", "--master", wrong, "--listen", "127.0.0.1:0", "--work-dir", cluster.scratch + "/second-agent"],
                    logPath: cluster.scratch + "/second-agent.log")
                defer { Task { await reconciler.stop(); await second.stop() } }
                try await eventually("the reconciler and the agent name the agent address", timeout: .seconds(30)) {
                    reconciler.log.contains(expected) && second.log.contains("Cannot register: --master \(expected)")
                }
                await reconciler.stop()
                await second.stop()
            }
        }

        @Test("a plain-HTTP registry without --insecure-registry says to pass it; nothing listening says connection refused")
        func plainHTTPRegistry() async throws {
            guard Prerequisites.met("a plain-HTTP registry needs docker-registry", missing: Prerequisites.missing([.binaries("docker-registry")])) else { return }
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-plain-registry-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let registry = try RegistryTaskTests.Registry(in: scratch, basicAuth: false)
            defer { registry.stop() }
            try await registry.waitUntilListening()
            let pull = try await DiffCommandTests.run([
                CapstanBinary.path, "image", "pull", "docker://\(registry.host)/busybox:1", "--work-dir", scratch + "/wd",
            ])
            #expect(pull.status == 1)
            #expect(pull.stderr.contains("registry \(registry.host) answers plain HTTP, not HTTPS"), "\(pull.stderr)")
            #expect(pull.stderr.contains("pass --insecure-registry \(registry.host)"), "\(pull.stderr)")
            #expect(!pull.stderr.contains("SSL") && !pull.stderr.contains("BoringSSL"), "no TLS library text reaches the user: \(pull.stderr)")
            // With the flag, the same registry is reached (and answers that it has no such image).
            let insecure = try await DiffCommandTests.run([
                CapstanBinary.path, "image", "pull", "docker://\(registry.host)/busybox:1", "--work-dir", scratch + "/wd",
                "--insecure-registry", registry.host,
            ])
            #expect(insecure.status == 1 && insecure.stderr.contains("answered 404"), "\(insecure.stderr)")
            let closed = FreePort.next()
            let refused = try await DiffCommandTests.run([
                CapstanBinary.path, "image", "pull", "docker://127.0.0.1:\(closed)/busybox:1", "--work-dir", scratch + "/wd",
            ])
            #expect(refused.stderr.contains("cannot reach registry 127.0.0.1:\(closed)") && refused.stderr.contains("connection refused"), "\(refused.stderr)")
            #expect(!refused.stderr.contains("errno"), "\(refused.stderr)")
        }

        @Test("a reconciler that loses the master shows every app Unknown since when, not a stale phase; back when it returns")
        func unknownWithoutTheMaster() async throws {
            try await GitOpsFixture.with { f in
                try await f.commit(["web.yaml": GitOpsFixture.app("web", instances: 1)])
                try await f.startReconciler()
                try await f.waitSynced("web")
                await f.cluster.masterProcess?.stop()
                try await eventually("web is Unknown", timeout: .seconds(45)) {
                    let app = try await f.app("web")
                    return app?.phase == .unknown && app?.reason?.contains("cannot reach the master at \(f.cluster.master) since") == true
                        && app?.reason?.contains("connection refused") == true
                }
                let status = try await DiffCommandTests.run([CapstanBinary.path, "status", "--reconciler", "http://\(f.api)"])
                #expect(status.status == 3 && status.stdout.contains("Unknown"), "\(status.stdout)")
                try await f.cluster.startMaster()
                try await f.waitSynced("web", timeout: .seconds(40))
            }
        }
    }
}
