import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    @Suite("Agent lifecycle")
    struct AgentLifecycleTests {
        @Test("An agent killed with SIGKILL is marked unreachable and its task reported lost")
        func killedAgentBecomesUnreachable() async throws {
            try await TestCluster.with { cluster in
                let operatorEvents = try await OperatorEventStream.open(cluster.master)
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch([TestTasks.command("on-doomed-agent", "sleep 60", agent: offer.agentID)], on: [offer])
                try await scheduler.update("on-doomed-agent", .taskRunning)

                cluster.agents[0].process.crash()
                let lost = try await scheduler.update("on-doomed-agent", .taskLost, timeout: .seconds(10))
                #expect(lost.source == .sourceMaster)
                #expect(lost.agentID == offer.agentID)
                let failure = try await scheduler.any("FAILURE") { $0.type == .failure }
                #expect(failure.failure?.agentID == offer.agentID)
                let removed = try await operatorEvents.next { $0.type == .agentRemoved }
                #expect(removed.agentRemoved?.agentID == offer.agentID)
                let agents = try await OperatorClient(cluster.master).call(.getAgents).getAgents
                #expect(agents?.agents.isEmpty == true)
                await scheduler.disconnect()
                operatorEvents.close()
            }
        }

        @Test("A partition-aware framework sees TASK_UNREACHABLE instead of TASK_LOST")
        func partitionAwareSeesUnreachable() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master, capabilities: [.init(type: .partitionAware)])
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch([TestTasks.command("pa", "sleep 60", agent: offer.agentID)], on: [offer])
                try await scheduler.update("pa", .taskRunning)
                cluster.agents[0].process.crash()
                let unreachable = try await scheduler.update("pa", .taskUnreachable, timeout: .seconds(10))
                #expect(unreachable.unreachableTime != nil)
                await scheduler.disconnect()
            }
        }

        @Test("A restarted agent keeps its agent ID from its checkpoint")
        func restartedAgentKeepsID() async throws {
            try await TestCluster.with { cluster in
                let first = cluster.agents[0]
                let before = try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents.first?.agentInfo.id
                // The master knows the ID once it has answered; the agent keeps it once it has read the answer and
                // checkpointed it. A stop before that (a loaded machine) would rightly register a new agent.
                try await eventually("the agent checkpointed its ID") {
                    let data = FileManager.default.contents(atPath: first.workDir + "/meta/agent.json") ?? Data()
                    return before.map { String(decoding: data, as: UTF8.self).contains($0.value) } ?? false
                }
                await first.process.stop()
                try await eventually("agent unreachable") { try await cluster.registeredAgentCount() == 0 }
                try await cluster.startAgent(workDir: first.workDir, port: first.endpoint.port)
                let after = try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents.first?.agentInfo.id
                #expect(before != nil)
                #expect(after == before)
            }
        }

        @Test("After a master restart the agent re-registers with its tasks and unacknowledged updates are retried")
        func masterRestartKeepsTasksAndRetriesUpdates() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master, failoverTimeout: 3600)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch([TestTasks.command("steady", "sleep 60", agent: offer.agentID)], on: [offer])
                try await scheduler.update("steady", .taskRunning)
                await scheduler.setAutoAcknowledge(false)
                try await scheduler.launch([TestTasks.command("short", "exit 0", agent: offer.agentID)], on: try await scheduler.nextOffers())
                // STARTING of "short" arrives; it is not acknowledged, so RUNNING/FINISHED wait on the agent.
                let starting = try await scheduler.update("short", .taskStarting)
                let frameworkID = scheduler.frameworkID
                await scheduler.disconnect()

                await cluster.masterProcess?.stop()
                try await cluster.startMaster()
                try await eventually("agent re-registered with the new master") { try await cluster.registeredAgentCount() == 1 }
                let tasks = try await OperatorClient(cluster.master).call(.getTasks).getTasks
                #expect(tasks?.tasks.contains { $0.taskID == "steady" && $0.state == .taskRunning } == true)

                // The framework fails over to the new master with its ID and receives the retried updates.
                let again = try await EventRecorder.subscribe(cluster.master, failoverTimeout: 3600, id: frameworkID)
                #expect(again.frameworkID == frameworkID)
                let retried = try await again.update("short", .taskStarting, timeout: .seconds(10))
                #expect(retried.uuid == starting.uuid, "the same update is re-sent until acknowledged")
                try await again.update("short", .taskFinished, timeout: .seconds(10))
                await again.disconnect()
            }
        }

        @Test("An acknowledgement sent after a master restart, before the agent re-registered, is accepted and reaches the agent: the update is not delivered again")
        func acknowledgementBeforeAgentReregistersIsAccepted() async throws {
            try await TestCluster.with { cluster in
                let first = cluster.agents[0]
                let scheduler = try await EventRecorder.subscribe(cluster.master, failoverTimeout: 3600)
                await scheduler.setAutoAcknowledge(false)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch([TestTasks.command("held", "sleep 60", agent: offer.agentID)], on: [offer])
                let starting = try await scheduler.update("held", .taskStarting)
                let uuid = try #require(starting.uuid)
                let frameworkID = scheduler.frameworkID
                await scheduler.disconnect()
                // The task runs (RUNNING waits on the agent behind the unacknowledged STARTING) and is checkpointed.
                try await eventually("the agent runs the task") {
                    let tasks = try await OperatorClient(first.endpoint).agentCall(.getTasks).getTasks?.launchedTasks ?? []
                    return tasks.contains { $0.taskID == "held" && $0.state == .taskRunning }
                }
                try await Task.sleep(for: .milliseconds(300))

                // The agent is down while the master restarts: it cannot have re-registered when the framework acknowledges.
                first.process.crash()
                await cluster.masterProcess?.stop()
                try await cluster.startMaster()
                let again = try await EventRecorder.subscribe(cluster.master, failoverTimeout: 3600, id: frameworkID)
                // Before: refused with "Agent … in 'acknowledge.agent_id' is unknown", and STARTING came again.
                try await again.send(
                    SchedulerCall(type: .acknowledge, acknowledge: .init(agentID: offer.agentID, taskID: "held", uuid: uuid)))

                try await cluster.startAgent(workDir: first.workDir, port: first.endpoint.port)
                try await again.update("held", .taskRunning, timeout: .seconds(20))
                let redelivered = await again.events.filter {
                    $0.update?.status.taskID == "held" && $0.update?.status.state == .taskStarting
                }
                #expect(redelivered.isEmpty, "STARTING was acknowledged already: \(redelivered)")
                await again.disconnect()
            }
        }
    }
}

/// Reads the master's operator SUBSCRIBE stream.
final class OperatorEventStream: @unchecked Sendable {
    private let recorder: EventBuffer<OperatorEvent>
    private let task: Task<Void, Never>

    private init(recorder: EventBuffer<OperatorEvent>, task: Task<Void, Never>) {
        self.recorder = recorder
        self.task = task
    }

    static func open(_ master: HostPort) async throws -> OperatorEventStream {
        let buffer = EventBuffer<OperatorEvent>()
        let stream = try await RecordIOStreamReader.open(
            url: master.url + "/api/v1", body: try MesosJSON.encode(OperatorCall(type: .subscribe)))
        let task = Task {
            do {
                for try await record in stream.records { await buffer.append(try MesosJSON.decode(OperatorEvent.self, from: record)) }
            } catch {}
        }
        let opened = OperatorEventStream(recorder: buffer, task: task)
        _ = try await opened.next { $0.type == .subscribed }
        return opened
    }

    func next(timeout: Duration = .seconds(10), where predicate: @Sendable (OperatorEvent) -> Bool) async throws -> OperatorEvent {
        try await recorder.next(timeout: timeout, where: predicate)
    }

    func close() { task.cancel() }
}
