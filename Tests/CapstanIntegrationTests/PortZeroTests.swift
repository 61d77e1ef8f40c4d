import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// Servers started with `--listen HOST:0` take the port the kernel picks, advertise that port (never 0), and
    /// report it in `--listen-file` and one `Listening` log line, so tests and scripts never race for a port.
    @Suite("Servers on port 0")
    struct PortZeroTests {
        @Test("A master and an agent on port 0: the agent registers with its bound port, the master names its bound port")
        func masterAndAgentAdvertiseTheirBoundPorts() async throws {
            try await TestCluster.with(agents: 1) { cluster in
                let master = cluster.master
                let agent = try #require(cluster.agents.first)
                #expect(master.port != 0 && agent.endpoint.port != 0)
                #expect(cluster.masterProcess?.arguments.contains("127.0.0.1:0") == true, "the cluster started the master on port 0")
                #expect(agent.arguments.contains("127.0.0.1:0"), "the cluster started the agent on port 0")

                // The agent registered with the port it bound, and the master reaches it there.
                let operatorAPI = OperatorClient(master, authorization: cluster.operatorAuthorization)
                let agents = try #require(try await operatorAPI.call(.getAgents).getAgents?.agents)
                #expect(agents.map(\.agentInfo.port) == [Int32(agent.endpoint.port)])
                #expect(agents.first?.pid == "slave(1)@\(agent.endpoint)")

                // MasterInfo (GET_MASTER, as SUBSCRIBED carries it) and the legacy /state name the master's bound port.
                let info = try #require(try await operatorAPI.call(.getMaster).getMaster?.masterInfo)
                #expect(info.port == UInt32(master.port))
                #expect(info.pid == "master@\(master)")
                #expect(info.address?.port == Int32(master.port))

                let state = try await operatorAPI.get("/state")
                let object = try #require(try JSONSerialization.jsonObject(with: state.body) as? [String: Any])
                #expect(object["leader"] as? String == "master@\(master)")
                #expect(object["pid"] as? String == "master@\(master)")
                let leader = try #require(object["leader_info"] as? [String: Any])
                #expect((leader["port"] as? NSNumber)?.intValue == master.port)
                #expect(((leader["address"] as? [String: Any])?["port"] as? NSNumber)?.intValue == master.port)

                // Each process said where it listens in one structured log line.
                #expect(cluster.masterProcess?.log.contains("Listening") == true)
                #expect(cluster.masterProcess?.log.contains("address=\(master)") == true, "\(cluster.masterProcess?.log.prefix(3000) ?? "")")
                #expect(agent.process.log.contains("address=\(agent.endpoint)"))
            }
        }

        @Test("capstan reconcile on port 0 advertises its bound port as the framework's web UI, which capstan status follows")
        func reconcilerAdvertisesItsBoundPort() async throws {
            try await TestCluster.with(agents: 0) { cluster in
                let repo = cluster.scratch + "/repo"
                try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
                try await ValidateCommandTests.git(repo, "init", "-q", "-b", "main")
                try await ValidateCommandTests.git(repo, "commit", "-q", "--allow-empty", "-m", "empty")
                let listenFile = ListenFile.path(in: cluster.scratch, name: "reconciler")
                let reconciler = try CapstanProcess(
                    arguments: [
                        "reconcile", "--master", cluster.master.description, "--listen", "127.0.0.1:0", "--listen-file", listenFile,
                        "--work-dir", cluster.scratch + "/reconciler", "--repo", repo, "--branch", "main", "--interval", "1h",
                    ],
                    logPath: cluster.scratch + "/reconciler.log")
                do {
                    let api = try await ListenFile.address(at: listenFile, of: reconciler)
                    #expect(api.port != 0)
                    #expect(try String(contentsOfFile: listenFile, encoding: .utf8) == "\(api)\n")
                    try await eventually("the reconciler's framework is registered with its bound port", timeout: .seconds(30)) {
                        let frameworks = try await OperatorClient(cluster.master).call(.getFrameworks).getFrameworks?.frameworks ?? []
                        return frameworks.contains { $0.frameworkInfo.webuiURL == "http://\(api)" }
                    }
                    let status = try CapstanProcess(
                        arguments: ["status", "--master", cluster.master.description, "--output", "json"],
                        logPath: cluster.scratch + "/status.log")
                    try await eventually("capstan status exits", timeout: .seconds(30)) { !status.isRunning }
                    #expect(!status.log.contains("Cannot reach"), "\(status.log)")
                    #expect(status.log.contains("\"revision\""), "capstan status read the reconciler's status: \(status.log)")
                } catch {
                    let log = reconciler.log
                    await reconciler.stop()
                    throw TestFailure("\(error)\n--- reconciler\n\(log.suffix(4000))")
                }
                await reconciler.stop()
            }
        }
    }
}
