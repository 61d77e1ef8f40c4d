import AsyncHTTPClient
import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

extension EndToEnd {
    /// The agent's files API as Mesos 1.0 serves it (browse, read, download, debug, also under `/slave(1)/`, and
    /// LIST_FILES/READ_FILE), and the sandbox `directory` in the agent's and the master's task state.
    @Suite("Task files through the agent")
    struct TaskFilesTests {
        @Test("A task's directory is in the agent's and the master's state, and its files are served under it and its alias")
        func directoryAndFilesAPI() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch(
                    [TestTasks.command("printer", "echo line-one; echo line-two; echo oops >&2; ln -s /etc/shadow shadow; sleep 60", agent: offer.agentID)],
                    on: [offer])
                try await scheduler.update("printer", .taskRunning)
                let agent = OperatorClient(cluster.agents[0].endpoint)
                let master = OperatorClient(cluster.master)
                let sandbox = try #require(OperatorAPITests.sandbox(of: "printer", workDir: cluster.agents[0].workDir))
                let agentID = offer.agentID.value, frameworkID = scheduler.frameworkID.value
                let alias = "/slaves/\(agentID)/frameworks/\(frameworkID)/executors/printer/runs/latest"

                // The directory: the real sandbox on the agent (tasks and containers), its alias on the master.
                let agentTasks = try #require(try await agent.agentCall(.getTasks).getTasks)
                #expect(agentTasks.launchedTasks.first { $0.taskID == "printer" }?.directory == sandbox)
                let containers = try #require(try await agent.agentCall(.getContainers).getContainers)
                #expect(containers.containers.first { $0.executorID == "printer" }?.directory == sandbox)
                let state = try #require(try await agent.agentCall(.getState).getState)
                #expect(state.getTasks?.launchedTasks.first?.directory == sandbox)
                let masterTasks = try #require(try await master.call(.getTasks).getTasks)
                #expect(masterTasks.tasks.first { $0.taskID == "printer" }?.directory == alias)
                #expect(try await master.call(.getState).getState?.getTasks?.tasks.first?.directory == alias)

                try await eventually("stdout written", timeout: .seconds(30)) {
                    try await agent.get("/files/read?path=\(alias)/stdout&offset=0").text.contains("line-two")
                }
                for prefix in ["", "/slave(1)"] {
                    for path in [sandbox, alias] {
                        let read = try Self.object(try await agent.get("\(prefix)/files/read?path=\(path)/stdout&offset=5&length=3"))
                        #expect(read["data"] as? String == "one")
                        #expect(read["offset"] as? Int == 5)
                        // No offset (or -1): no data, and the size, so a client can start at the end.
                        let size = "line-one\nline-two\n".utf8.count
                        #expect(try Self.object(try await agent.get("\(prefix)/files/read?path=\(path)/stdout"))["offset"] as? Int == size)
                        #expect(try Self.object(try await agent.get("\(prefix)/files/read?path=\(path)/stdout&offset=-1")) as NSDictionary == ["data": "", "offset": size])
                        let listing = try JSONSerialization.jsonObject(with: try await agent.get("\(prefix)/files/browse?path=\(path)").body) as? [[String: Any]] ?? []
                        let stdout = try #require(listing.first { $0["path"] as? String == path + "/stdout" })
                        #expect(stdout["size"] as? Int == size)
                        #expect((stdout["mode"] as? String)?.hasPrefix("-rw") == true)
                        #expect(Set(stdout.keys) == ["path", "nlink", "size", "mtime", "mode", "uid", "gid"])
                    }
                    let debug = try Self.object(try await agent.get("\(prefix)/files/debug"))
                    #expect(debug[alias] as? String == sandbox)
                    #expect(debug[sandbox] as? String == sandbox)
                }

                // Download: the bytes, as an attachment named after the file.
                var request = HTTPClientRequest(url: cluster.agents[0].endpoint.url + "/files/download?path=\(alias)/stderr")
                request.method = .GET
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                #expect(response.status.code == 200)
                #expect(response.headers["Content-Disposition"].first == "attachment; filename=\"stderr\"")
                #expect(String(buffer: try await response.body.collect(upTo: 1 << 20)) == "oops\n")

                // Escapes: the task's symlink to /etc/shadow, '..' out of the sandbox, and host paths are all a 404.
                for path in [alias + "/shadow", sandbox + "/shadow", alias + "/../../../../../../../../etc/shadow", sandbox + "/../../../../../../../../../../etc/shadow", "/etc/shadow", "/slaves/\(agentID)/frameworks/\(frameworkID)/executors/other/runs/latest/stdout"] {
                    for endpoint in ["read", "browse", "download"] {
                        let reply = try await agent.get("/files/\(endpoint)?path=\(path)&offset=0")
                        #expect(reply.status == 404, "\(endpoint) \(path): \(reply.status) \(reply.text.prefix(80))")
                        #expect(!reply.text.contains("root:"))
                    }
                }

                // READ_FILE and LIST_FILES on the agent: exact bytes and the size; the same 404s.
                let readFile = try await agent.raw(
                    path: "/api/v1", body: #"{"type":"READ_FILE","read_file":{"path":"\#(alias)/stdout","offset":9,"length":100}}"#)
                #expect(readFile.status == 200, "\(readFile.text)")
                let file = try #require(try MesosJSON.decode(AgentOperatorResponse.self, from: readFile.body).readFile)
                #expect(String(decoding: file.data.data, as: UTF8.self) == "line-two\n")
                #expect(file.size == 18)
                let listFiles = try await agent.raw(path: "/api/v1", body: #"{"type":"LIST_FILES","list_files":{"path":"\#(sandbox)"}}"#)
                let infos = try #require(try MesosJSON.decode(AgentOperatorResponse.self, from: listFiles.body).listFiles).fileInfos
                let stdoutInfo = try #require(infos.first { $0.path == sandbox + "/stdout" })
                #expect(stdoutInfo.size == 18)
                #expect((stdoutInfo.mode ?? 0) & 0o170000 == 0o100000)
                #expect((stdoutInfo.mtime?.nanoseconds ?? 0) > 0)
                #expect(infos.first { $0.path == sandbox + "/shadow" }.map { ($0.mode ?? 0) & 0o170000 } == 0o120000)
                for body in [
                    #"{"type":"READ_FILE","read_file":{"path":"\#(alias)/shadow","offset":0}}"#,
                    #"{"type":"READ_FILE","read_file":{"path":"/etc/shadow","offset":0}}"#,
                    #"{"type":"LIST_FILES","list_files":{"path":"/etc"}}"#,
                    #"{"type":"READ_FILE","read_file":{"path":"\#(alias)/no-such-file","offset":0}}"#,
                ] {
                    let reply = try await agent.raw(path: "/api/v1", body: body)
                    #expect(reply.status == 404, "\(body): \(reply.status)")
                    #expect(!reply.text.contains("root:"))
                }
                // The master serves no files of its own.
                let masterRead = try await master.raw(path: "/api/v1", body: #"{"type":"READ_FILE","read_file":{"path":"/master/log","offset":0}}"#)
                #expect(masterRead.status == 404)
                let masterList = try await master.raw(path: "/api/v1", body: #"{"type":"LIST_FILES","list_files":{"path":"/"}}"#)
                #expect(masterList.status == 404)
                await scheduler.disconnect()
            }
        }

        static func object(_ reply: JSONPoster.Reply) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: reply.body) as? [String: Any], "\(reply.status) \(reply.text)")
        }
    }
}
