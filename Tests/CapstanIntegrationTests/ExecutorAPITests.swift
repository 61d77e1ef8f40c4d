import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    @Suite("Executor API")
    struct ExecutorAPITests {
        static var executorPath: String {
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Examples/executors/echo_executor.py").path
        }

        static func executorTask(_ id: String, _ command: String, agent: AgentID, executor: String = "echo-executor") -> TaskInfo {
            var task = TaskInfo(
                name: id, taskID: TaskID(id), agentID: agent,
                resources: Resources([.scalar("cpus", 0.1), .scalar("mem", 32)]).mesos)
            task.data = Base64Bytes(Data(command.utf8))
            var info = ExecutorInfo(executorID: ExecutorID(executor))
            info.command = CommandInfo(value: "exec python3 \(executorPath)")
            info.name = "echo executor"
            info.resources = Resources([.scalar("cpus", 0.1), .scalar("mem", 32)]).mesos
            task.executor = info
            return task
        }

        @Test("A custom executor subscribes, runs tasks, relays messages, gets acknowledgements and kills")
        func customExecutorRunsTasks() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch(
                    [
                        Self.executorTask("quick", "echo quick", agent: offer.agentID),
                        Self.executorTask("long", "sleep 60", agent: offer.agentID),
                    ], on: [offer])

                let running = try await scheduler.update("quick", .taskRunning)
                #expect(running.source == .sourceExecutor)
                #expect(running.executorID == "echo-executor")
                #expect(running.agentID == offer.agentID)
                try await scheduler.update("quick", .taskFinished)
                try await scheduler.update("long", .taskRunning)

                // The executor's MESSAGE reaches the framework.
                let message = try await scheduler.any("executor MESSAGE") { $0.type == .message }
                #expect(message.message.map { String(decoding: $0.data.data, as: UTF8.self) } == "hello from echo-executor")

                // A framework MESSAGE reaches the executor.
                try await scheduler.send(
                    SchedulerCall(
                        type: .message,
                        message: .init(agentID: offer.agentID, executorID: "echo-executor", data: Base64Bytes(Data("ping".utf8)))))

                try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: "long", agentID: offer.agentID)))
                let killed = try await scheduler.update("long", .taskKilled)
                #expect(killed.message == "killed by the framework")

                // The executor saw the acknowledgements and the message (its own log in its sandbox).
                let agent = OperatorClient(cluster.agents[0].endpoint)
                let executors = try await agent.agentCall(.getExecutors).getExecutors?.executors ?? []
                #expect(executors.contains { $0.executorInfo.executorID == "echo-executor" })
                let sandboxRoot = cluster.agents[0].workDir + "/slaves"
                try await eventually("executor log shows ACKNOWLEDGED and MESSAGE") {
                    let log = Self.findFile(named: "executor.log", under: sandboxRoot).flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
                    return log.contains("ACKNOWLEDGED quick") && log.contains("MESSAGE ping")
                }
                // GET_CONTAINERS reports the executor's container with usage.
                let containers = try await agent.agentCall(.getContainers).getContainers?.containers ?? []
                let container = try #require(containers.first { $0.executorID == "echo-executor" })
                #expect(container.resourceStatistics?.cpusUserTimeSecs != nil)
                await scheduler.disconnect()
            }
        }

        @Test("An executor that never subscribes fails its tasks after the registration timeout")
        func executorRegistrationTimeout() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                var task = Self.executorTask("orphan", "true", agent: offer.agentID, executor: "silent")
                task.executor?.command = CommandInfo(value: "sleep 60")
                try await scheduler.launch([task], on: [offer])
                let failed = try await scheduler.update("orphan", .taskFailed, timeout: .seconds(20))
                #expect(failed.reason == .reasonExecutorRegistrationTimeout)
                await scheduler.disconnect()
            }
        }

        static func findFile(named name: String, under root: String) -> String? {
            guard let enumerator = FileManager.default.enumerator(atPath: root) else { return nil }
            for case let path as String in enumerator where path.hasSuffix("/" + name) { return root + "/" + path }
            return nil
        }
    }
}
