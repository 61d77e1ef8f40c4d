import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    @Suite("Operator API, metrics and sandbox files")
    struct OperatorAPITests {
        @Test("GET_STATE, GET_VERSION, /version, /state, /metrics and operator SUBSCRIBE events reflect a running task")
        func masterOperatorAPI() async throws {
            try await TestCluster.with { cluster in
                let master = OperatorClient(cluster.master)
                let events = try await OperatorEventStream.open(cluster.master)
                let scheduler = try await EventRecorder.subscribe(cluster.master, name: "ops")
                let framework = try await events.next { $0.type == .frameworkAdded }
                #expect(framework.frameworkAdded?.framework.frameworkInfo.name == "ops")
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch([TestTasks.command("watched", "sleep 30", agent: offer.agentID, cpus: 0.5, mem: 128)], on: [offer])
                try await scheduler.update("watched", .taskRunning)
                let added = try await events.next { $0.type == .taskAdded }
                #expect(added.taskAdded?.task.taskID == "watched")
                let updated = try await events.next { $0.type == .taskUpdated && $0.taskUpdated?.state == .taskRunning }
                #expect(updated.taskUpdated?.frameworkID == scheduler.frameworkID)

                let state = try #require(try await master.call(.getState).getState)
                #expect(state.getTasks?.tasks.contains { $0.taskID == "watched" && $0.state == .taskRunning } == true)
                #expect(state.getAgents?.agents.count == 1)
                #expect(state.getFrameworks?.frameworks.first?.frameworkInfo.name == "ops")

                let roles = try await master.call(.getRoles).getRoles?.roles ?? []
                let star = try #require(roles.first { $0.name == "*" })
                #expect(star.frameworks == [scheduler.frameworkID])
                #expect(try Resources(mesos: star.resources).cpus == 0.5)

                let version = try await master.call(.getVersion).getVersion?.versionInfo.version ?? ""
                #expect(version.allSatisfy { $0.isNumber || $0 == "." }, "clients parse version as digits and dots: \(version)")
                let plainVersion = try JSONSerialization.jsonObject(with: try await master.get("/version").body) as? [String: Any]
                #expect(plainVersion?["version"] as? String == version)
                #expect(plainVersion?["capstan_version"] != nil)

                let legacy = try JSONSerialization.jsonObject(with: try await master.get("/state").body) as? [String: Any]
                let slaves = legacy?["slaves"] as? [[String: Any]]
                #expect(slaves?.count == 1)
                let frameworks = legacy?["frameworks"] as? [[String: Any]]
                let tasks = frameworks?.first?["tasks"] as? [[String: Any]]
                #expect(tasks?.first?["state"] as? String == "TASK_RUNNING")

                // The rest of Mesos' master JSON endpoints, as its tooling reads them.
                func json(_ path: String) async throws -> [String: Any] {
                    let reply = try await master.get(path)
                    #expect(reply.status == 200, "\(path): \(reply.status)")
                    return try #require(try JSONSerialization.jsonObject(with: reply.body) as? [String: Any], "\(path)")
                }
                for prefix in ["", "/master"] {
                    #expect((try await json(prefix + "/slaves"))["slaves"].map { ($0 as? [Any])?.count } == 1)
                    let listed = try await json(prefix + "/frameworks")["frameworks"] as? [[String: Any]]
                    #expect(listed?.first?["name"] as? String == "ops")
                    let page = try await json(prefix + "/tasks?limit=5&order=asc")["tasks"] as? [[String: Any]]
                    #expect(page?.map { $0["id"] as? String } == ["watched"])
                    let summary = try await json(prefix + "/state-summary")
                    let summarized = (summary["frameworks"] as? [[String: Any]])?.first
                    #expect(summarized?["TASK_RUNNING"] as? Double == 1 && summarized?["tasks"] == nil, "\(summarized ?? [:])")
                    #expect(((summary["slaves"] as? [[String: Any]])?.first?["TASK_RUNNING"] as? Double) == 1)
                    let legacyRoles = try await json(prefix + "/roles")["roles"] as? [[String: Any]]
                    #expect(legacyRoles?.first { $0["name"] as? String == "*" }?["frameworks"] as? [String] == [scheduler.frameworkID.value])
                    #expect(((try await json(prefix + "/flags"))["flags"] as? [String: Any])?.isEmpty == false)
                }
                #expect(try await master.get("/tasks?order=sideways").status == 400)

                let metrics = try await master.get("/metrics").text
                #expect(metrics.contains("capstan_master_tasks_running 1"))
                #expect(metrics.contains("capstan_master_cpus_used 0.5"))
                await scheduler.disconnect()
                events.close()
            }
        }

        @Test("The agent's GET_STATE lists the task, and /files/browse and /files/read serve its stdout")
        func agentStateAndFiles() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch(
                    [TestTasks.command("logger", "echo line-one; echo line-two; echo oops >&2; sleep 30", agent: offer.agentID)],
                    on: [offer])
                try await scheduler.update("logger", .taskRunning)
                let agent = OperatorClient(cluster.agents[0].endpoint)
                let state = try #require(try await agent.agentCall(.getState).getState)
                #expect(state.getTasks?.launchedTasks.contains { $0.taskID == "logger" } == true)
                #expect(state.getFrameworks?.frameworks.first?.frameworkInfo.id == scheduler.frameworkID)

                let executors = try #require(state.getExecutors?.executors.first)
                #expect(executors.executorInfo.executorID == "logger")
                let sandbox = try #require(
                    Self.sandbox(of: "logger", workDir: cluster.agents[0].workDir), "sandbox of the task")
                try await eventually("stdout written") {
                    let reply = try await agent.get("/files/read?path=\(sandbox)/stdout&offset=0")
                    return reply.text.contains("line-two")
                }
                let listing = try JSONSerialization.jsonObject(with: try await agent.get("/files/browse?path=\(sandbox)").body) as? [[String: Any]]
                let names = Set(listing?.compactMap { ($0["path"] as? String).map { URL(fileURLWithPath: $0).lastPathComponent } } ?? [])
                #expect(names.isSuperset(of: ["stdout", "stderr"]))
                let read = try JSONSerialization.jsonObject(with: try await agent.get("/files/read?path=\(sandbox)/stdout&offset=5&length=3").body) as? [String: Any]
                #expect(read?["data"] as? String == "one")
                #expect(read?["offset"] as? Int == 5)
                let size = try JSONSerialization.jsonObject(with: try await agent.get("/files/read?path=\(sandbox)/stdout&offset=-1").body) as? [String: Any]
                #expect(size?["offset"] as? Int == "line-one\nline-two\n".utf8.count)
                let outside = try await agent.get("/files/read?path=/etc/passwd&offset=0")
                #expect(outside.status == 404)
                await scheduler.disconnect()
            }
        }

        static func sandbox(of executorID: String, workDir: String) -> String? {
            guard let enumerator = FileManager.default.enumerator(atPath: workDir + "/slaves") else { return nil }
            for case let path as String in enumerator where path.contains("/executors/\(executorID)/runs/") {
                let parts = path.components(separatedBy: "/runs/")
                if parts.count == 2, !parts[1].contains("/") { return workDir + "/slaves/" + path }
            }
            return nil
        }
    }
}
