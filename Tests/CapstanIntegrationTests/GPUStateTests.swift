import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// What the master's state and the agent's container listing say about GPUs (fake NVML): the agents withheld from
    /// a framework without GPU_RESOURCES and why, and each container's GPUs with NVML's memory and utilisation.
    @Suite("GPUs in the master's state and the agent's containers (fake NVML)")
    struct GPUStateTests {
        /// The JSON object at `path` of the master or agent.
        static func json(_ client: OperatorClient, _ path: String) async throws -> Any {
            let reply = try await client.get(path)
            #expect(reply.status == 200, "\(path): \(reply.status) \(reply.text)")
            return try JSONSerialization.jsonObject(with: reply.body)
        }

        /// The framework named `name` in a legacy `/state` or `/frameworks` document.
        static func legacyFramework(_ document: Any, _ name: String) throws -> [String: Any] {
            let frameworks = try #require((document as? [String: Any])?["frameworks"] as? [[String: Any]])
            return try #require(frameworks.first { $0["name"] as? String == name }, "no framework \(name) in \(frameworks)")
        }

        @Test("GET_FRAMEWORKS, GET_STATE, /state and /frameworks name the GPU agent withheld from a framework without GPU_RESOURCES and why, once logged; a framework with it has no such field")
        func withheldAgentsAreInTheMastersState() async throws {
            try await TestCluster().run { cluster in
                let library = try FakeNVML.build(in: cluster.scratch + "/nvml")
                try await cluster.startMaster()
                _ = try await cluster.startAgent(resources: "cpus:2;mem:512;disk:256", extraArguments: GPUResourceTests.gpuAgentArguments(library))
                let master = OperatorClient(cluster.master)
                let agentID = try #require(try await master.call(.getAgents).getAgents?.agents.first?.agentInfo.id)

                let plain = try await EventRecorder.subscribe(cluster.master, name: "no-gpus")
                let trainer = try await EventRecorder.subscribe(cluster.master, name: "trainer", capabilities: [.init(type: .gpuResources)])
                _ = try await trainer.nextOffers()
                let expected = WithheldAgents(agentIDs: [agentID], reason: OfferWithholding.lacksGPUResources)

                let frameworks = try #require(try await master.call(.getFrameworks).getFrameworks?.frameworks)
                let byName = Dictionary(uniqueKeysWithValues: frameworks.map { ($0.frameworkInfo.name, $0) })
                #expect(byName["no-gpus"]?.withheldAgents == expected, "\(frameworks)")
                #expect(byName["trainer"] != nil && byName["trainer"]?.withheldAgents == nil)
                let state = try #require(try await master.call(.getState).getState?.getFrameworks?.frameworks)
                #expect(state.first { $0.frameworkInfo.name == "no-gpus" }?.withheldAgents == expected)

                // The wire field, as a client that knows nothing of Capstan's types reads it.
                let raw = try await master.raw(path: "/api/v1", body: #"{"type":"GET_FRAMEWORKS"}"#)
                let rawFrameworks = try #require(
                    ((try JSONSerialization.jsonObject(with: raw.body) as? [String: Any])?["get_frameworks"] as? [String: Any])?["frameworks"] as? [[String: Any]])
                let rawPlain = try #require(rawFrameworks.first { ($0["framework_info"] as? [String: Any])?["name"] as? String == "no-gpus" })
                let rawWithheld = try #require(rawPlain["capstan_withheld_agents"] as? [String: Any])
                #expect((rawWithheld["agent_ids"] as? [[String: String]]) == [["value": agentID.value]])
                #expect(rawWithheld["reason"] as? String == OfferWithholding.lacksGPUResources)
                #expect(rawPlain["framework_info"] != nil && rawPlain["active"] as? Bool == true, "the Mesos fields stay")

                for path in ["/state", "/master/frameworks"] {
                    let document = try await Self.json(master, path)
                    let legacy = try Self.legacyFramework(document, "no-gpus")
                    let withheld = try #require(legacy["capstan_withheld_agents"] as? [String: Any], "\(path): \(legacy)")
                    #expect(withheld["agent_ids"] as? [String] == [agentID.value], "\(path)")
                    #expect(withheld["reason"] as? String == OfferWithholding.lacksGPUResources, "\(path)")
                    #expect(try Self.legacyFramework(document, "trainer")["capstan_withheld_agents"] == nil, "\(path)")
                }

                // Logged once for the framework, however many allocation cycles ran (200 ms each).
                try await Task.sleep(for: .seconds(1))
                let log = cluster.logs.components(separatedBy: "--- agent").first ?? ""
                #expect(log.components(separatedBy: "Agents withheld from a framework").count - 1 == 1, "\(log.suffix(3000))")
                await plain.disconnect()
                await trainer.disconnect()
            }
        }

        @Test("GET_CONTAINERS and /containers list the GPU a task holds with NVML's memory used and total and its utilisation; a container without GPUs has none")
        func containersReportTheirGPUsAndUsage() async throws {
            guard Prerequisites.met("the devices cgroup needs root", missing: Prerequisites.missing([.root("cgroups need it")])) else { return }
            guard GPUIsolationTests.devicesControllerPresent() else { return }
            try await TestCluster().run { cluster in
                let library = try FakeNVML.build(in: cluster.scratch + "/nvml")
                try await cluster.startMaster()
                let agent = try await cluster.startAgent(
                    resources: "cpus:2;mem:512;disk:256", extraArguments: GPUResourceTests.gpuAgentArguments(library))
                let scheduler = try await EventRecorder.subscribe(cluster.master, name: "gpu-usage", capabilities: [.init(type: .gpuResources)])
                let offer = try #require(try await scheduler.nextOffers().first)
                var gpuTask = TestTasks.command("with-gpu", "sleep 600", agent: offer.agentID)
                gpuTask.resources = Resources([.scalar("cpus", 0.1), .scalar("mem", 32), .scalar("gpus", 1)]).mesos
                let cpuTask = TestTasks.command("without-gpu", "sleep 600", agent: offer.agentID, cpus: 0.1, mem: 32)
                try await scheduler.launch([gpuTask, cpuTask], on: [offer], refuseSeconds: 0)
                try await scheduler.update("with-gpu", .taskRunning, timeout: .seconds(20))
                try await scheduler.update("without-gpu", .taskRunning, timeout: .seconds(20))

                // The fake's GPU 0: 16 GiB, 1 MiB used, 7 % busy.
                let expected = [ContainerGPU(uuid: "GPU-fake-0", memoryUsedBytes: 1 << 20, memoryTotalBytes: 16 << 30, utilizationPercent: 7)]
                let client = OperatorClient(agent.endpoint)
                let containers = try await client.agentCall(.getContainers).getContainers?.containers ?? []
                let byExecutor = Dictionary(uniqueKeysWithValues: containers.compactMap { c in c.executorID.map { ($0.value, c) } })
                #expect(byExecutor["with-gpu"]?.gpus == expected, "\(containers)")
                #expect(byExecutor["without-gpu"] != nil && byExecutor["without-gpu"]?.gpus == nil, "\(containers)")
                #expect(byExecutor["with-gpu"]?.resourceStatistics != nil, "the Mesos fields stay")

                let legacy = try #require(try await Self.json(client, "/containers") as? [[String: Any]])
                let entry = try #require(legacy.first { $0["executor_id"] as? String == "with-gpu" }, "\(legacy)")
                let gpus = try #require(entry["capstan_gpus"] as? [[String: Any]], "\(entry)")
                #expect(gpus.count == 1)
                #expect(gpus.first?["uuid"] as? String == "GPU-fake-0")
                #expect((gpus.first?["memory_used_bytes"] as? NSNumber)?.uint64Value == 1 << 20)
                #expect((gpus.first?["memory_total_bytes"] as? NSNumber)?.uint64Value == 16 << 30)
                #expect((gpus.first?["utilization_percent"] as? NSNumber)?.intValue == 7)
                #expect(entry["statistics"] != nil && entry["container_id"] != nil, "the Mesos fields stay")
                #expect(legacy.first { $0["executor_id"] as? String == "without-gpu" }?["capstan_gpus"] == nil)

                for id in ["with-gpu", "without-gpu"] {
                    try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: TaskID(id), agentID: offer.agentID)))
                    try await scheduler.update(TaskID(id), .taskKilled, timeout: .seconds(20))
                }
                await scheduler.disconnect()
            }
        }
    }
}
