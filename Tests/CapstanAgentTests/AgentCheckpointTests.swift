import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import CapstanAgent

/// The agent's checkpoints go through one writer on the blocking pool: nothing is lost or resurrected on the way, and
/// what the master hears is never ahead of what is on disk.
@Suite("Agent checkpoints")
struct AgentCheckpointTests {
    @Test("Writes handed over are on disk after flush, the newest last; a dropped directory stays dropped for writes taken before it")
    func handedOverWritesLandInOrder() async throws {
        let dir = NSTemporaryDirectory() + "capstan-checkpoints-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = CheckpointStore(workDir: dir)
        let writer = OrderedCheckpointWriter(store: store, logger: Logger(label: "test"))
        let path = "frameworks/f1/tasks/t1/task.json"
        for index in 0..<40 {
            writer.submit(AgentCheckpoint(agentID: AgentID("agent-\(index)")), to: path)
        }
        await writer.flush()
        #expect(try store.read(AgentCheckpoint.self, from: path)?.agentID == AgentID("agent-39"))

        for index in 0..<20 {
            writer.submit(AgentCheckpoint(agentID: AgentID("late-\(index)")), to: "frameworks/f1/tasks/t\(index)/task.json")
        }
        writer.removeDirectory("frameworks/f1")
        await writer.flush()
        #expect(!FileManager.default.fileExists(atPath: dir + "/meta/frameworks/f1"), "no write taken before the removal brings it back")

        writer.submit(AgentCheckpoint(agentID: AgentID("again")), to: path)
        writer.submitRemoval("frameworks/f1/tasks/t1/other.json")
        await writer.flush()
        #expect(try store.read(AgentCheckpoint.self, from: path)?.agentID == AgentID("again"), "a framework back later checkpoints again")
    }

    @Test("Work handed to the blocking pool by a task that is already cancelled is still done (a checkpoint write asked for lands)")
    func blockingWorkSurvivesCancellation() async throws {
        let dir = NSTemporaryDirectory() + "capstan-blocking-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = CheckpointStore(workDir: dir)
        let writer = OrderedCheckpointWriter(store: store, logger: Logger(label: "test"))
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await writer.write(AgentCheckpoint(agentID: AgentID("kept")), to: "agent.json", version: writer.nextVersion())
        }
        try await task.value
        #expect(try store.read(AgentCheckpoint.self, from: "agent.json")?.agentID == AgentID("kept"))
    }

    @Test("Each status update reaches the master only once the task's checkpoint holds its state; a framework's shutdown removes its checkpoints")
    func updatesFollowTheTaskCheckpoint() async throws {
        try await AgentFixture.with { fixture in
            let seen = Mutex<[(sent: TaskState, onDisk: TaskState?)]>([])
            let store = CheckpointStore(workDir: fixture.workDir)
            let path = CheckpointStore.taskPath(AgentFixture.frameworkID, TaskID("short")) + "/task.json"
            fixture.messenger.observer.withLock {
                $0 = { message in
                    let onDisk = (try? store.read(TaskCheckpoint.self, from: path))??.state
                    seen.withLock { $0.append((message.status.state, onDisk)) }
                }
            }
            try await fixture.agent.runTask(RunTaskMessage(framework: AgentFixture.framework, task: AgentFixture.task("short", "true")))
            try await fixture.update("short", .taskFinished)
            let pairs = seen.withLock { $0 }
            let order: [TaskState] = [.taskStaging, .taskStarting, .taskRunning, .taskFinished]
            #expect(pairs.map(\.sent) == Array(order.dropFirst()))
            // An update goes once the one before it is acknowledged, so the task may be further on by then, never behind.
            for pair in pairs {
                let sent = order.firstIndex(of: pair.sent) ?? 0, onDisk = pair.onDisk.flatMap { order.firstIndex(of: $0) } ?? -1
                #expect(onDisk >= sent, "the checkpoint said \(pair.onDisk?.rawValue ?? "nothing") when \(pair.sent.rawValue) was sent")
            }
            // Its checkpoint goes once the terminal update is acknowledged (fixture.update acknowledged it).
            await fixture.agent.checkpoints.flush()
            #expect(try store.read(TaskCheckpoint.self, from: path) == nil)

            await fixture.agent.shutdownFramework(AgentFixture.frameworkID)
            await fixture.agent.checkpoints.flush()
            #expect(!FileManager.default.fileExists(atPath: store.root + "/" + CheckpointStore.frameworkPath(AgentFixture.frameworkID)))
        }
    }
}
