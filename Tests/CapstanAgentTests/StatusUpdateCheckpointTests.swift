import CapstanAPI
@testable import CapstanAgent
import CapstanCore
import Foundation
import Logging
import Synchronization
import Testing

@Suite("Status update checkpoints")
struct StatusUpdateCheckpointTests {
    static func workDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-updates-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func status(_ task: TaskID, _ index: Int) -> TaskStatus {
        TaskStatus(taskID: task, state: .taskRunning, message: "update \(index)", uuid: Base64Bytes([UInt8(index), 7, 7, 7]))
    }

    @Test("Checkpoint writes finishing out of order leave the newest snapshot; a removal or a retired framework is not undone by a late write")
    func olderSnapshotsNeverWinOnDisk() async throws {
        let dir = try Self.workDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = CheckpointStore(workDir: dir)
        let writer = OrderedCheckpointWriter(store: store, logger: Logger(label: "test"))
        let path = "frameworks/f1/tasks/t1/updates.json"
        try await writer.write(UpdateStreamCheckpoint(pending: [Self.status(TaskID("t1"), 2)], terminalAcknowledged: false), to: path, version: 2)
        try await writer.write(UpdateStreamCheckpoint(pending: [Self.status(TaskID("t1"), 1)], terminalAcknowledged: false), to: path, version: 1)
        #expect(try store.read(UpdateStreamCheckpoint.self, from: path)?.pending.first?.message == "update 2")
        await writer.remove(path, version: 4)
        try await writer.write(UpdateStreamCheckpoint(pending: [Self.status(TaskID("t1"), 3)], terminalAcknowledged: false), to: path, version: 3)
        #expect(try store.read(UpdateStreamCheckpoint.self, from: path) == nil)
        writer.retire("frameworks/f2", version: 6)
        try await writer.write(UpdateStreamCheckpoint(pending: [], terminalAcknowledged: false), to: "frameworks/f2/tasks/t/updates.json", version: 5)
        #expect(!FileManager.default.fileExists(atPath: dir + "/meta/frameworks/f2"))
        try await writer.write(UpdateStreamCheckpoint(pending: [], terminalAcknowledged: false), to: "frameworks/f2/tasks/t/updates.json", version: 7)
        #expect(FileManager.default.fileExists(atPath: dir + "/meta/frameworks/f2/tasks/t/updates.json"), "a framework back later checkpoints again")
    }

    @Test("Concurrent updates of one task: each is on disk before it is sent, the head goes once, and the checkpoint ends holding all")
    func concurrentUpdatesAreDurableBeforeTheyAreSent() async throws {
        let dir = try Self.workDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = CheckpointStore(workDir: dir)
        let task = TaskID("t1"), framework = FrameworkID("f1")
        let path = CheckpointStore.taskPath(framework, task) + "/updates.json"
        let sent = Mutex<[(String, Bool)]>([])
        let manager = StatusUpdateManager(
            checkpoints: OrderedCheckpointWriter(store: store, logger: Logger(label: "test")), retryInterval: .seconds(60), retryMax: .seconds(60), logger: Logger(label: "test")
        ) { message in
            let onDisk = (try? store.read(UpdateStreamCheckpoint.self, from: path))?.pending.contains { $0.uuid == message.status.uuid } ?? false
            sent.withLock { $0.append((message.status.message ?? "", onDisk)) }
        }
        await manager.setConnected(true)
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<30 { group.addTask { await manager.update(Self.status(task, index), frameworkID: framework) } }
        }
        let checkpoint = try #require(try store.read(UpdateStreamCheckpoint.self, from: path))
        #expect(checkpoint.pending.count == 30)
        let pending = await manager.pending(frameworkID: framework, taskID: task)
        #expect(checkpoint.pending.map(\.uuid) == pending.map(\.uuid), "the checkpoint is the stream as it ends")
        let messages = sent.withLock { $0 }
        #expect(messages.count == 1, "only the head is sent until it is acknowledged: \(messages)")
        #expect(messages.first?.0 == pending.first?.message && messages.first?.1 == true, "the head was on disk before it was sent")

        // Acknowledging the head sends the next one, again only once it is on disk without the old head.
        let head = try #require(pending.first?.uuid)
        #expect(await manager.acknowledge(frameworkID: framework, taskID: task, uuid: head))
        let after = sent.withLock { $0 }
        #expect(after.count == 2 && after[1].0 == pending[1].message && after[1].1)
        #expect(try store.read(UpdateStreamCheckpoint.self, from: path)?.pending.count == 29)
    }
}
