import CapstanAPI
import CapstanAPIClient
import CapstanAuth
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// `capstan logs` through the built binary against a real master and agent.
    @Suite("capstan logs")
    struct LogsCommandTests {
        /// A finished (or running, for -f) `capstan` run with its standard output and error apart.
        final class Run: @unchecked Sendable {
            let process = Process()
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-logs-\(UUID().uuidString.prefix(8))").path
            var stdout: String { (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? "" }
            var stderr: String { (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? "" }
            var status: Int32 { process.terminationStatus }

            /// Starts `capstan ARGS` (output to files, not pipes, which a child forked by another test could inherit).
            init(_ arguments: [String], environment: [String: String] = [:]) throws {
                _ = FileManager.default.createFile(atPath: base + ".out", contents: nil)
                _ = FileManager.default.createFile(atPath: base + ".err", contents: nil)
                process.executableURL = URL(fileURLWithPath: CapstanBinary.path)
                process.arguments = arguments
                var env = ProcessInfo.processInfo.environment
                env["CAPSTAN_MASTER"] = nil
                process.environment = env.merging(environment) { $1 }
                process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
                process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
                process.standardInput = FileHandle.nullDevice
                try process.run()
            }

            /// Waits for the exit (up to `timeout`; then kills it and fails).
            func finish(timeout: Duration = .seconds(60)) async throws -> Run {
                let deadline = ContinuousClock.now + timeout
                while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
                if process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                    throw TestFailure("capstan \(process.arguments ?? []) ran past \(timeout); output: \(stdout) \(stderr)")
                }
                return self
            }

            deinit {
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                try? FileManager.default.removeItem(atPath: base + ".out")
                try? FileManager.default.removeItem(atPath: base + ".err")
            }
        }

        static func logs(_ arguments: [String], environment: [String: String] = [:]) async throws -> Run {
            try await Run(["logs"] + arguments, environment: environment).finish()
        }

        static func appTask(_ id: String, _ shell: String, app: String, agent: AgentID) -> TaskInfo {
            var task = TestTasks.command(id, shell, agent: agent)
            task.labels = Labels(labels: [Label(key: TaskLabel.app, value: app)])
            return task
        }

        @Test("Prints a task's stdout and stderr, its last lines, JSON lines, and every instance of an app prefixed")
        func printsTaskAndAppLogs() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch(
                    [
                        TestTasks.command("printer", "for i in 1 2 3 4 5; do echo out-$i; done; echo err-1 >&2; echo err-2 >&2; sleep 60", agent: offer.agentID),
                        Self.appTask("web.b", "echo web-b-1; echo web-b-2; sleep 60", app: "web", agent: offer.agentID),
                        Self.appTask("web.a", "echo web-a-1; sleep 60", app: "web", agent: offer.agentID),
                        TestTasks.command("vanished", "rm -f stdout; sleep 60", agent: offer.agentID),
                    ],
                    on: [offer])
                for id in ["printer", "web.a", "web.b", "vanished"] { _ = try await scheduler.update(TaskID(id), .taskRunning) }
                let master = "\(cluster.master)"
                let agent = OperatorClient(cluster.agents[0].endpoint)
                for (executor, last) in [("printer", "err-2"), ("web.a", "web-a-1"), ("web.b", "web-b-2")] {
                    let sandbox = try #require(OperatorAPITests.sandbox(of: executor, workDir: cluster.agents[0].workDir))
                    let file = last.hasPrefix("err") ? "stderr" : "stdout"
                    try await eventually("\(executor) wrote \(last)", timeout: .seconds(30)) {
                        try await agent.get("/files/read?path=\(sandbox)/\(file)&offset=0").text.contains(last)
                    }
                }

                let all = try await Self.logs(["printer", "--master", master])
                #expect(all.status == 0, "\(all.stderr)")
                #expect(all.stdout == "out-1\nout-2\nout-3\nout-4\nout-5\n")
                let tail = try await Self.logs(["printer", "--tail", "2", "--master", master])
                #expect(tail.stdout == "out-4\nout-5\n", "\(tail.stderr)")
                #expect(try await Self.logs(["printer", "--tail", "0", "--master", master]).stdout == "")
                #expect(try await Self.logs(["printer", "--tail", "50", "--master", master]).stdout == all.stdout)
                let errors = try await Self.logs(["printer", "--stderr", "--master", master])
                #expect(errors.stdout == "err-1\nerr-2\n", "\(errors.stderr)")
                // CAPSTAN_MASTER stands in for --master.
                #expect(try await Self.logs(["printer", "--tail", "1"], environment: ["CAPSTAN_MASTER": master]).stdout == "out-5\n")

                let json = try await Self.logs(["printer", "--tail", "1", "--output", "json", "--master", master])
                let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: String], "\(json.stdout)")
                #expect(object == ["task_id": "printer", "agent_id": offer.agentID.value, "stream": "stdout", "line": "out-5"])

                let app = try await Self.logs(["web", "--master", master])
                #expect(app.status == 0, "\(app.stderr)")
                #expect(app.stdout == "web.a | web-a-1\nweb.b | web-b-1\nweb.b | web-b-2\n")
                #expect(try await Self.logs(["web", "--tail", "1", "--master", master]).stdout == "web.a | web-a-1\nweb.b | web-b-2\n")

                let unknown = try await Self.logs(["no-such-thing", "--master", master])
                #expect(unknown.status == 1)
                #expect(unknown.stderr.contains("no task or app named 'no-such-thing' on the master at \(master)"), "\(unknown.stderr)")
                #expect(unknown.stdout.isEmpty)
                // A task whose file is gone: nothing printed, and a sentence saying so.
                let vanishedSandbox = try #require(OperatorAPITests.sandbox(of: "vanished", workDir: cluster.agents[0].workDir))
                try await eventually("stdout removed", timeout: .seconds(30)) { !FileManager.default.fileExists(atPath: vanishedSandbox + "/stdout") }
                let vanished = try await Self.logs(["vanished", "--master", master])
                #expect(vanished.status == 0)
                #expect(vanished.stdout.isEmpty)
                #expect(vanished.stderr == "capstan logs: task vanished has no stdout on agent \(offer.agentID.value) (not started yet, or its sandbox was removed)\n")
                // --master pointed at the agent says so.
                let atAgent = try await Self.logs(["printer", "--master", "\(cluster.agents[0].endpoint)"])
                #expect(atAgent.status == 1)
                #expect(atAgent.stderr == "capstan logs: \(cluster.agents[0].endpoint) is an agent, not a master; pass the master's address with --master (or CAPSTAN_MASTER)\n")
                await scheduler.disconnect()
            }
        }

        @Test("-f prints lines written later and exits once the task has ended")
        func followEndsWithTheTask() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch(
                    [TestTasks.command("follower", "echo early-1; echo early-2; while [ ! -e go ]; do sleep 0.2; done; echo late-1; sleep 1; echo late-2", agent: offer.agentID)],
                    on: [offer])
                _ = try await scheduler.update("follower", .taskRunning)
                let sandbox = try #require(OperatorAPITests.sandbox(of: "follower", workDir: cluster.agents[0].workDir))
                let follow = try Run(["logs", "follower", "-f", "--master", "\(cluster.master)"])
                try await eventually("-f printed the early lines", timeout: .seconds(30)) { follow.stdout.contains("early-2\n") }
                #expect(follow.process.isRunning, "it follows: \(follow.stderr)")
                _ = FileManager.default.createFile(atPath: sandbox + "/go", contents: nil)
                _ = try await follow.finish(timeout: .seconds(90))
                #expect(follow.status == 0, "\(follow.stderr)")
                #expect(follow.stdout == "early-1\nearly-2\nlate-1\nlate-2\n")
                // After the end, the whole file is still there to read.
                #expect(try await Self.logs(["follower", "--tail", "1", "--master", "\(cluster.master)"]).stdout == "late-2\n")
                await scheduler.disconnect()
            }
        }

        @Test("-f on an app follows every instance, prefixed, until all have ended; Ctrl-C stops a follow at once")
        func followAnApp() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                let waitForGo = "while [ ! -e go ]; do sleep 0.2; done"
                try await scheduler.launch(
                    [
                        Self.appTask("batch.1", "echo start-1; \(waitForGo); echo end-1", app: "batch", agent: offer.agentID),
                        Self.appTask("batch.2", "echo start-2; \(waitForGo); sleep 1; echo end-2", app: "batch", agent: offer.agentID),
                        TestTasks.command("forever", "echo tick; sleep 120", agent: offer.agentID),
                    ],
                    on: [offer])
                for id in ["batch.1", "batch.2", "forever"] { _ = try await scheduler.update(TaskID(id), .taskRunning) }
                let master = "\(cluster.master)"
                let follow = try Run(["logs", "batch", "-f", "--master", master])
                try await eventually("both instances' first lines", timeout: .seconds(30)) {
                    follow.stdout.contains("batch.1 | start-1\n") && follow.stdout.contains("batch.2 | start-2\n")
                }
                for id in ["batch.1", "batch.2"] {
                    let sandbox = try #require(OperatorAPITests.sandbox(of: id, workDir: cluster.agents[0].workDir))
                    _ = FileManager.default.createFile(atPath: sandbox + "/go", contents: nil)
                }
                _ = try await follow.finish(timeout: .seconds(90))
                #expect(follow.status == 0, "\(follow.stderr)")
                let lines = follow.stdout.split(separator: "\n").map(String.init)
                #expect(lines.sorted() == ["batch.1 | end-1", "batch.1 | start-1", "batch.2 | end-2", "batch.2 | start-2"], "\(follow.stdout)")
                #expect(lines.firstIndex(of: "batch.2 | start-2")! < lines.firstIndex(of: "batch.2 | end-2")!)

                let forever = try Run(["logs", "forever", "-f", "--master", master])
                try await eventually("forever's line", timeout: .seconds(30)) { forever.stdout == "tick\n" }
                kill(forever.process.processIdentifier, SIGINT)
                _ = try await forever.finish(timeout: .seconds(15))
                #expect(forever.process.terminationReason == .uncaughtSignal || forever.status != 0)
                await scheduler.disconnect()
            }
        }

        @Test("With --authenticate-http the new files endpoints need credentials, and capstan logs passes them to the agent")
        func authenticatedLogs() async throws {
            let files = NSTemporaryDirectory() + "capstan-logs-ops-\(UUID().uuidString.prefix(6))"
            try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: files) }
            try "ops ops-secret\n".write(toFile: files + "/operators", atomically: true, encoding: .utf8)
            try "ops-secret\n".write(toFile: files + "/secret", atomically: true, encoding: .utf8)
            let ops = HTTPAuthenticator.basic(principal: "ops", secret: "ops-secret")
            let cluster = try TestCluster(masterFlags: ["--authenticate-http", "--credentials", files + "/operators"])
            cluster.operatorAuthorization = ops
            try await cluster.run { cluster in
                try await cluster.startMaster()
                let agent = try await cluster.startAgent(extraArguments: ["--authenticate-http", "--credentials", files + "/operators"])
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch([TestTasks.command("guarded", "echo guarded-line; sleep 60", agent: offer.agentID)], on: [offer])
                _ = try await scheduler.update("guarded", .taskRunning)
                let sandbox = try #require(OperatorAPITests.sandbox(of: "guarded", workDir: agent.workDir))
                let open = OperatorClient(agent.endpoint)
                for path in ["/files/read?path=\(sandbox)/stdout&offset=0", "/slave(1)/files/read?path=\(sandbox)/stdout&offset=0",
                             "/files/download?path=\(sandbox)/stdout", "/files/debug", "/slave(1)/files/browse?path=\(sandbox)"] {
                    #expect(try await open.get(path).status == 401, "\(path)")
                    #expect(try await OperatorClient(agent.endpoint, authorization: ops).get(path).status == 200, "\(path)")
                }
                let master = "\(cluster.master)"
                try await eventually("stdout written", timeout: .seconds(30)) {
                    try await OperatorClient(agent.endpoint, authorization: ops).get("/files/read?path=\(sandbox)/stdout&offset=0").text.contains("guarded-line")
                }
                let refused = try await Self.logs(["guarded", "--master", master])
                #expect(refused.status == 1)
                #expect(refused.stderr == "capstan logs: the master at \(master) refused GET_TASKS (401): pass --principal and --secret-file, or --token-file\n", "\(refused.stderr)")
                let run = try await Self.logs(["guarded", "--master", master, "--principal", "ops", "--secret-file", files + "/secret"])
                #expect(run.status == 0, "\(run.stderr)")
                #expect(run.stdout == "guarded-line\n")
                await scheduler.disconnect()
            }
        }

        @Test("An unreachable master is named with the reason")
        func unreachableMaster() async throws {
            let closed = ClosedPort()
            let run = try await Self.logs(["web", "--master", "127.0.0.1:\(closed.port)", "--timeout", "2s"])
            #expect(run.status == 1)
            #expect(run.stderr == "capstan logs: cannot reach the master at 127.0.0.1:\(closed.port): connection refused\n", "\(run.stderr)")
            withExtendedLifetime(closed) {}
        }
    }
}
