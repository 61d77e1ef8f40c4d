import CapstanAPI
import CapstanCore
import Foundation
import Logging

/// Mesos' status update manager: per task, an ordered stream of updates. Only the oldest unacknowledged update
/// of a stream is sent; it is re-sent with exponential backoff until the framework acknowledges its uuid, then
/// the next one goes. Streams are checkpointed, so they survive agent restarts.
public actor StatusUpdateManager {
    struct StreamKey: Hashable, Sendable {
        var frameworkID: FrameworkID
        var taskID: TaskID
    }

    struct Stream: Sendable {
        var pending: [TaskStatus] = []
        var latestState: TaskState?
        var nextAttempt: ContinuousClock.Instant = .now
        var backoff: Duration
        var inFlight = false
        /// Checkpoints of this stream being written: nothing is sent until the stream is on disk.
        var persisting = 0
        /// Whether the current head has been sent at least once (retries then follow `nextAttempt`).
        var headSent = false
    }

    private var streams: [StreamKey: Stream] = [:]
    /// The agent's checkpoint writer: the streams' checkpoints go through it, on the blocking pool, newest snapshot last.
    public nonisolated let checkpoints: OrderedCheckpointWriter
    private let retryInterval: Duration
    private let retryMax: Duration
    private let logger: Logger
    /// Delivers an update to the master; throws when the master cannot be reached.
    private let forward: @Sendable (StatusUpdateMessage) async throws -> Void
    /// Whether the agent is registered; updates wait while it is not.
    private var connected = false

    public init(
        checkpoints: OrderedCheckpointWriter, retryInterval: Duration, retryMax: Duration, logger: Logger,
        forward: @escaping @Sendable (StatusUpdateMessage) async throws -> Void
    ) {
        self.checkpoints = checkpoints
        self.retryInterval = retryInterval
        self.retryMax = retryMax
        self.logger = logger
        self.forward = forward
    }

    /// Adds an update to its task's stream and sends it now if it is the stream's head.
    public func update(_ status: TaskStatus, frameworkID: FrameworkID) async {
        let key = StreamKey(frameworkID: frameworkID, taskID: status.taskID)
        var stream = streams[key] ?? Stream(backoff: retryInterval)
        if let uuid = status.uuid, stream.pending.contains(where: { $0.uuid == uuid }) { return }
        stream.pending.append(status)
        stream.latestState = status.state
        streams[key] = stream
        await persist(key)
        await sendUnsentHead(key)
    }

    /// An acknowledgement from the framework. Returns true when it matched the head of the stream.
    @discardableResult
    public func acknowledge(frameworkID: FrameworkID, taskID: TaskID, uuid: Base64Bytes) async -> Bool {
        let key = StreamKey(frameworkID: frameworkID, taskID: taskID)
        guard var stream = streams[key], let head = stream.pending.first, head.uuid == uuid else {
            logger.debug("Ignoring an acknowledgement that matches no pending update", metadata: ["task_id": "\(taskID)"])
            return false
        }
        stream.pending.removeFirst()
        stream.headSent = false
        stream.backoff = retryInterval
        stream.nextAttempt = .now
        if stream.pending.isEmpty && (stream.latestState?.isTerminal ?? false) {
            streams.removeValue(forKey: key)
            await checkpoints.remove(CheckpointStore.taskPath(frameworkID, taskID) + "/updates.json", version: checkpoints.nextVersion())
            return true
        }
        streams[key] = stream
        await persist(key)
        await sendUnsentHead(key)
        return true
    }

    /// Whether a task still has updates the framework has not acknowledged.
    public func hasPending(frameworkID: FrameworkID, taskID: TaskID) -> Bool {
        !(streams[StreamKey(frameworkID: frameworkID, taskID: taskID)]?.pending.isEmpty ?? true)
    }

    /// The uuids of pending updates of a task (the executor API's unacknowledged_updates).
    public func pending(frameworkID: FrameworkID, taskID: TaskID) -> [TaskStatus] {
        streams[StreamKey(frameworkID: frameworkID, taskID: taskID)]?.pending ?? []
    }

    /// Registration state changed; on (re-)registration every stream's head is sent again at once.
    public func setConnected(_ connected: Bool) async {
        self.connected = connected
        guard connected else { return }
        for key in streams.keys {
            streams[key]?.backoff = retryInterval
            streams[key]?.nextAttempt = .now
        }
        await retryDue()
    }

    /// Re-sends heads whose retry time came; called periodically.
    public func retryDue() async {
        guard connected else { return }
        let now = ContinuousClock.now
        for (key, stream) in streams where !stream.pending.isEmpty && !stream.inFlight && stream.nextAttempt <= now {
            await send(key)
        }
    }

    /// Drops all streams of a framework (it was removed).
    public func removeFramework(_ frameworkID: FrameworkID) {
        streams = streams.filter { $0.key.frameworkID != frameworkID }
        checkpoints.retire(CheckpointStore.frameworkPath(frameworkID), version: checkpoints.nextVersion())
    }

    /// Restores streams from checkpoints at start-up.
    public func recover(_ checkpointed: [(FrameworkID, TaskID, UpdateStreamCheckpoint)]) {
        for (frameworkID, taskID, checkpoint) in checkpointed where !checkpoint.pending.isEmpty {
            var stream = Stream(backoff: retryInterval)
            stream.pending = checkpoint.pending
            stream.latestState = checkpoint.pending.last?.state
            streams[StreamKey(frameworkID: frameworkID, taskID: taskID)] = stream
        }
    }

    private func send(_ key: StreamKey) async {
        guard connected, var stream = streams[key], let head = stream.pending.first, !stream.inFlight, stream.persisting == 0 else { return }
        stream.inFlight = true
        stream.headSent = true
        stream.nextAttempt = .now + stream.backoff
        stream.backoff = min(stream.backoff * 2, retryMax)
        streams[key] = stream
        let message = StatusUpdateMessage(frameworkID: key.frameworkID, status: head, latestState: stream.latestState)
        do {
            try await forward(message)
        } catch {
            logger.debug("Status update not delivered; will retry", metadata: ["task_id": "\(key.taskID)", "error": "\(error)"])
        }
        streams[key]?.inFlight = false
    }

    /// Sends the stream's head if it has not been sent yet and the stream is on disk (the last of overlapping
    /// checkpoint writes to finish sends it).
    private func sendUnsentHead(_ key: StreamKey) async {
        guard let stream = streams[key], !stream.pending.isEmpty, !stream.headSent, stream.persisting == 0 else { return }
        await send(key)
    }

    /// Checkpoints the stream as it is now (durably, off the cooperative pool); the stream sends nothing meanwhile.
    private func persist(_ key: StreamKey) async {
        guard let stream = streams[key] else { return }
        let version = checkpoints.nextVersion()
        streams[key]?.persisting += 1
        defer { if let count = streams[key]?.persisting, count > 0 { streams[key]?.persisting = count - 1 } }
        do {
            try await checkpoints.write(
                UpdateStreamCheckpoint(pending: stream.pending, terminalAcknowledged: false),
                to: CheckpointStore.taskPath(key.frameworkID, key.taskID) + "/updates.json", version: version)
        } catch {
            logger.error("Failed to checkpoint a status update stream", metadata: ["task_id": "\(key.taskID)", "error": "\(error)"])
        }
        // The agent's own checkpoints handed over before this update (the task's new state) land before it is sent.
        await checkpoints.flush()
    }
}
