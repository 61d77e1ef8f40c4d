import CapstanAPI
import CapstanAPIClient
import CapstanAuth
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// Regression tests for issue 9's findings 1 and 2, and authentication on every endpoint family.
    @Suite("Authentication and identifiers")
    struct AuthenticationTests {
        static let runTask = #"{"framework":{"user":"root","name":"x","id":{"value":"evil"}},"task":{"name":"t","task_id":{"value":"t1"},"agent_id":{"value":"a"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}}],"command":{"value":"touch MARKER"}}}"#

        @Test("An anonymous or wrongly signed run-task on the agent is refused with 401 and runs nothing")
        func anonymousRunTaskRefused() async throws {
            try await TestCluster.with { cluster in
                let agent = cluster.agents[0]
                let marker = cluster.scratch + "/pwned-\(UUID().uuidString.prefix(6))"
                let body = Self.runTask.replacingOccurrences(of: "MARKER", with: marker)
                let client = OperatorClient(agent.endpoint)
                let anonymous = try await client.raw(path: InternalPath.runTask, body: body)
                #expect(anonymous.status == 401, "\(anonymous.status) \(anonymous.text)")
                // Signed, but with a credential that is not the agent's own.
                let forged = RequestSignature.authorization(
                    principal: "agent-0", secret: "guessed", method: "POST", path: InternalPath.runTask, body: Data(body.utf8))
                let wrong = try await client.raw(path: InternalPath.runTask, body: body, headers: [("Authorization", forged)])
                #expect(wrong.status == 401)
                // A valid signature over another body does not carry over.
                let other = RequestSignature.authorization(
                    principal: "agent-0", secret: try Self.secret(cluster, slot: 0), method: "POST", path: InternalPath.runTask,
                    body: Data("{}".utf8))
                #expect(try await client.raw(path: InternalPath.runTask, body: body, headers: [("Authorization", other)]).status == 401)
                try await Task.sleep(for: .milliseconds(500))
                #expect(!FileManager.default.fileExists(atPath: marker))
                let tasks = try await OperatorClient(agent.endpoint).agentCall(.getTasks).getTasks
                #expect((tasks?.launchedTasks ?? []).isEmpty)
            }
        }

        @Test("Forged status updates are refused: anonymous (401) and from another agent's credential (403); the task keeps running")
        func forgedStatusUpdateRefused() async throws {
            try await TestCluster.with(agents: 2) { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let agent0 = try #require(try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents.first {
                    $0.pid?.contains(cluster.agents[0].endpoint.description) == true || $0.agentInfo.port == Int32(cluster.agents[0].endpoint.port)
                }).agentInfo.id
                let agentID = try #require(agent0)
                var offer: Offer?
                for _ in 0..<5 where offer == nil {
                    offer = try await scheduler.nextOffers().first { $0.agentID == agentID }
                }
                let chosen = try #require(offer)
                try await scheduler.launch([TestTasks.command("victim", "sleep 60", agent: agentID)], on: [chosen])
                try await scheduler.update("victim", .taskRunning)

                var status = TaskStatus(taskID: "victim", state: .taskFinished)
                status.agentID = agentID
                status.uuid = Base64Bytes(Array(UUID().uuidString.utf8))
                let message = StatusUpdateMessage(frameworkID: scheduler.frameworkID, status: status)
                let body = String(decoding: try MesosJSON.encode(message), as: UTF8.self)
                let master = OperatorClient(cluster.master)
                #expect(try await master.raw(path: InternalPath.statusUpdate, body: body).status == 401)
                // agent-1 is a registered agent, but not the one that runs the task.
                let asOther = RequestSignature.authorization(
                    principal: "agent-1", secret: try Self.secret(cluster, slot: 1), method: "POST", path: InternalPath.statusUpdate,
                    body: Data(body.utf8))
                let refused = try await master.raw(path: InternalPath.statusUpdate, body: body, headers: [("Authorization", asOther)])
                #expect(refused.status == 403, "\(refused.status) \(refused.text)")
                try await Task.sleep(for: .milliseconds(300))
                let tasks = try await master.call(.getTasks).getTasks?.tasks ?? []
                #expect(tasks.first { $0.taskID == "victim" }?.state == .taskRunning)
                #expect(await scheduler.events.allSatisfy { $0.update?.status.state != .taskFinished })
                await scheduler.disconnect()
            }
        }

        @Test("A path-like framework ID is refused at SUBSCRIBE, and a TEARDOWN removes no host directory")
        func pathLikeFrameworkIDRefused() async throws {
            try await TestCluster.with { cluster in
                let victim = cluster.scratch + "/victim"
                try FileManager.default.createDirectory(atPath: victim + "/keep", withIntermediateDirectories: true)
                let hostile = "../../../../../../../../" + String(victim.dropFirst())
                let master = OperatorClient(cluster.master)
                let body = #"{"type":"SUBSCRIBE","framework_id":{"value":"\#(hostile)"},"subscribe":{"framework_info":{"user":"root","name":"evil","id":{"value":"\#(hostile)"}}}}"#
                let reply = try await master.raw(path: "/api/v1/scheduler", body: body)
                #expect(reply.status == 400)
                #expect(reply.text.contains("framework_id"), "\(reply.text)")
                for id in ["..", ".", "a/b", "x\\u0000y", String(repeating: "a", count: 300)] {
                    let info = #"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"evil","id":{"value":"\#(id)"}}}}"#
                    #expect(try await master.raw(path: "/api/v1/scheduler", body: info).status == 400, "\(id)")
                }
                _ = try await master.raw(path: "/api/v1", body: #"{"type":"TEARDOWN","teardown":{"framework_id":{"value":"\#(hostile)"}}}"#)
                #expect(FileManager.default.fileExists(atPath: victim + "/keep"))
                // A task ID of the same shape is TASK_ERROR, never a path.
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch([TestTasks.command("../../x", "true", agent: offer.agentID)], on: [offer])
                let error = try await scheduler.update("../../x", .taskError)
                #expect(error.message?.contains("only letters") == true, "\(error.message ?? "")")
                await scheduler.disconnect()
            }
        }

        @Test("With --authenticate-frameworks: no or wrong credentials are 401, another principal cannot resume a framework ID (403)")
        func frameworkAuthentication() async throws {
            try await TwoPrincipals.with { principals in
                let (alice, bob) = (principals.alice, principals.bob)
                try await TestCluster.with(masterFlags: principals.masterFlags) { cluster in
                    let subscribe = #"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"f"}}}"#
                    let master = OperatorClient(cluster.master)
                    #expect(try await master.raw(path: "/api/v1/scheduler", body: subscribe).status == 401)
                    let wrong = HTTPAuthenticator.basic(principal: "alice", secret: "nope")
                    #expect(try await master.raw(path: "/api/v1/scheduler", body: subscribe, headers: [("Authorization", wrong)]).status == 401)

                    let owner = try await EventRecorder.subscribe(cluster.master, failoverTimeout: 60, authorization: alice)
                    _ = try await owner.nextOffers()
                    // bob cannot take alice's framework over, with or without its stream ID.
                    do {
                        _ = try await EventRecorder.subscribe(cluster.master, id: owner.frameworkID, authorization: bob)
                        Issue.record("bob resumed alice's framework")
                    } catch {
                        #expect("\(error)".contains("403"), "\(error)")
                    }
                    let revive = #"{"type":"REVIVE","framework_id":{"value":"\#(owner.frameworkID.value)"}}"#
                    let hijack = try await master.raw(
                        path: "/api/v1/scheduler", body: revive,
                        headers: [("Authorization", bob), ("Mesos-Stream-Id", owner.subscription.streamID)])
                    #expect(hijack.status == 403)
                    // The owner is still subscribed and may act.
                    try await owner.send(SchedulerCall(type: .revive))
                    let frameworks = try await master.call(.getFrameworks).getFrameworks?.frameworks ?? []
                    #expect(frameworks.first { $0.frameworkInfo.id == owner.frameworkID }?.active == true)
                    #expect(frameworks.first { $0.frameworkInfo.id == owner.frameworkID }?.frameworkInfo.principal == "alice")
                    // A framework_info.principal that is not the authenticated one is refused.
                    let lying = #"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"f","principal":"alice"}}}"#
                    #expect(try await master.raw(path: "/api/v1/scheduler", body: lying, headers: [("Authorization", bob)]).status == 403)
                    // The same resume by the owner works (failover).
                    await owner.disconnect()
                    let again = try await EventRecorder.subscribe(cluster.master, id: owner.frameworkID, authorization: alice)
                    #expect(again.frameworkID == owner.frameworkID)
                    await again.disconnect()
                }
            }
        }

        @Test("With --authenticate-http the operator API, /state, /metrics and agent files need credentials; /health stays open")
        func operatorAuthentication() async throws {
            let files = NSTemporaryDirectory() + "capstan-ops-\(UUID().uuidString.prefix(6))"
            try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: files) }
            try "ops ops-secret\n".write(toFile: files + "/operators", atomically: true, encoding: .utf8)
            let key = String(repeating: "k", count: 32)
            try key.write(toFile: files + "/jwt", atomically: true, encoding: .utf8)
            let ops = HTTPAuthenticator.basic(principal: "ops", secret: "ops-secret")
            let authenticated = try TestCluster(
                masterFlags: ["--authenticate-http", "--credentials", files + "/operators", "--jwt-secret-file", files + "/jwt"])
            authenticated.operatorAuthorization = ops
            let agentFlags = ["--authenticate-http", "--credentials", files + "/operators"]
            try await authenticated.run { cluster in
                try await cluster.startMaster()
                let agent = try await cluster.startAgent(extraArguments: agentFlags)
                for endpoint in [cluster.master, agent.endpoint] {
                    let open = OperatorClient(endpoint)
                    #expect(try await open.get("/health").status == 200)
                    #expect(try await open.raw(path: "/api/v1", body: #"{"type":"GET_HEALTH"}"#).status == 401)
                    let wrong = OperatorClient(endpoint, authorization: HTTPAuthenticator.basic(principal: "ops", secret: "x"))
                    #expect(try await wrong.raw(path: "/api/v1", body: #"{"type":"GET_HEALTH"}"#).status == 401)
                    let right = OperatorClient(endpoint, authorization: ops)
                    #expect(try await right.raw(path: "/api/v1", body: #"{"type":"GET_HEALTH"}"#).status == 200)
                }
                let open = OperatorClient(cluster.master)
                #expect(try await open.get("/state").status == 401)
                #expect(try await open.get("/metrics/snapshot").status == 401)
                #expect(try await OperatorClient(agent.endpoint).get("/files/browse?path=/").status == 401)
                // The Mesos 1.0 aliases and endpoints are behind the same check; only the health aliases stay open.
                for path in ["/master/state", "/master/tasks", "/quota", "/weights"] { #expect(try await open.get(path).status == 401, "\(path)") }
                #expect(try await open.get("/master/health").status == 200)
                for path in ["/state", "/slave(1)/state", "/monitor/statistics", "/containers", "/flags"] {
                    #expect(try await OperatorClient(agent.endpoint).get(path).status == 401, "\(path)")
                }
                #expect(try await OperatorClient(agent.endpoint).get("/slave(1)/health").status == 200)
                // The dashboards sit behind the same authentication as the APIs.
                for path in ["/", "/dashboard/master.js", "/api/v1/dashboard/tasks", "/api/v1/dashboard/summary", "/api/v1/dashboard/events"] {
                    #expect(try await open.get(path).status == 401, "\(path)")
                }
                #expect(try await OperatorClient(agent.endpoint).get("/sandbox").status == 401)
                #expect(try await OperatorClient(cluster.master, authorization: ops).get("/").status == 200)
                #expect(try await OperatorClient(cluster.master, authorization: ops).get("/api/v1/dashboard/tasks").status == 200)
                // TEARDOWN without credentials changes nothing.
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let teardown = #"{"type":"TEARDOWN","teardown":{"framework_id":{"value":"\#(scheduler.frameworkID.value)"}}}"#
                #expect(try await open.raw(path: "/api/v1", body: teardown).status == 401)
                let frameworks = try await OperatorClient(cluster.master, authorization: ops).call(.getFrameworks).getFrameworks?.frameworks ?? []
                #expect(frameworks.contains { $0.frameworkInfo.id == scheduler.frameworkID && $0.active })
                // A bearer token minted with the master's JWT key works; one past its expiry does not.
                let token = BearerToken.mint(principal: "ci", secret: Array(key.utf8), lifetime: 60)
                #expect(try await OperatorClient(cluster.master, authorization: "Bearer " + token).get("/state").status == 200)
                let expired = BearerToken.mint(principal: "ci", secret: Array(key.utf8), lifetime: -1)
                #expect(try await OperatorClient(cluster.master, authorization: "Bearer " + expired).get("/state").status == 401)
                await scheduler.disconnect()
            }
        }

        @Test("An agent whose credential the master does not list never registers; the master refuses to start without agent credentials or on a public address without authentication")
        func startupRefusals() async throws {
            try await TestCluster.with(agents: 0) { cluster in
                try "agent-0 not-the-secret\n".write(toFile: cluster.scratch + "/bad.credential", atomically: true, encoding: .utf8)
                let listenFile = ListenFile.path(in: cluster.scratch, name: "bad-agent")
                let bad = try CapstanProcess(
                    arguments: ["agent", "--master", cluster.master.description, "--listen", "127.0.0.1:0", "--listen-file", listenFile,
                        "--work-dir", cluster.scratch + "/bad-agent", "--credential", cluster.scratch + "/bad.credential",
                        "--resources", "cpus:1;mem:128"],
                    logPath: cluster.scratch + "/bad-agent.log")
                try await waitForHealth(try await ListenFile.address(at: listenFile, of: bad))
                try await eventually("the agent logs the refusal", timeout: .seconds(10)) { bad.log.contains("refused this agent's credential") }
                #expect(try await cluster.registeredAgentCount() == 0)
                await bad.stop()

                for (arguments, expected) in [
                    (["master", "--listen", "127.0.0.1:0"], "--agent-credentials"),
                    (["agent", "--listen", "127.0.0.1:0"], "--credential"),
                    (["master", "--listen", "0.0.0.0:0", "--agent-credentials", cluster.agentCredentialsPath], "--authenticate-frameworks"),
                    (["reconcile", "--listen", "0.0.0.0:0", "--repo", cluster.scratch], "--webhook-secret-file"),
                ] {
                    let process = try CapstanProcess(
                        arguments: arguments + ["--work-dir", cluster.scratch + "/refused-\(UUID().uuidString.prefix(4))"],
                        logPath: cluster.scratch + "/refused-\(UUID().uuidString.prefix(4)).log")
                    try await eventually("\(arguments[0]) exits", timeout: .seconds(10)) { !process.isRunning }
                    #expect(process.process.terminationStatus != 0)
                    #expect(process.log.contains(expected), "\(arguments): \(process.log)")
                }
            }
        }

        static func secret(_ cluster: TestCluster, slot: Int) throws -> String {
            let text = try String(contentsOfFile: cluster.credentialPath(slot: slot), encoding: .utf8)
            return String(text.split(separator: " ")[1].trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}

extension EndToEnd.AuthenticationTests {
    @Test("With --authenticate-http-executors an executor with its own token runs tasks; no token or another executor's token is 401")
    func executorTokens() async throws {
        try await TestCluster.with(agents: 0) { cluster in
            let agent = try await cluster.startAgent(extraArguments: ["--authenticate-http-executors"])
            let scheduler = try await EventRecorder.subscribe(cluster.master)
            let offer = try #require(try await scheduler.nextOffers().first)
            try await scheduler.launch(
                [EndToEnd.ExecutorAPITests.executorTask("tok", "sleep 60", agent: offer.agentID)], on: [offer])
            try await scheduler.update("tok", .taskRunning, timeout: .seconds(20))

            let framework = scheduler.frameworkID.value
            var status = TaskStatus(taskID: "tok", state: .taskFinished)
            status.uuid = Base64Bytes(Array(UUID().uuidString.utf8))
            status.source = .sourceExecutor
            let call = ExecutorCall(
                type: .update, executorID: "echo-executor", frameworkID: scheduler.frameworkID, update: .init(status: status))
            let body = String(decoding: try MesosJSON.encode(call), as: UTF8.self)
            let client = OperatorClient(agent.endpoint)
            #expect(try await client.raw(path: "/api/v1/executor", body: body).status == 401)
            let key = try Array(Data(contentsOf: URL(fileURLWithPath: agent.workDir + "/meta/executor-token.key")))
            let other = ExecutorToken.make(key: key, frameworkID: framework, executorID: "another-executor")
            #expect(try await client.raw(path: "/api/v1/executor", body: body, headers: [("Authorization", "Bearer " + other)]).status == 401)
            try await Task.sleep(for: .milliseconds(300))
            let tasks = try await OperatorClient(cluster.master).call(.getTasks).getTasks?.tasks ?? []
            #expect(tasks.first { $0.taskID == "tok" }?.state == .taskRunning)
            // The executor's own token is accepted.
            let own = ExecutorToken.make(key: key, frameworkID: framework, executorID: "echo-executor")
            let accepted = try await client.raw(path: "/api/v1/executor", body: body, headers: [("Authorization", "Bearer " + own)])
            #expect(accepted.status == 202, "\(accepted.status) \(accepted.text)")
            await scheduler.disconnect()
        }
    }
}
