import Logging
import CapstanAPI
import CapstanCore
import CapstanHTTP
import Foundation

extension Agent {
    /// Executor SUBSCRIBE: binds the stream to the executor, sends SUBSCRIBED, then LAUNCH for queued tasks.
    public func subscribeExecutor(_ call: ExecutorCall) throws(CapstanError) -> StreamSubscriber<ExecutorEvent> {
        guard var record = executor(call.frameworkID, call.executorID) else {
            throw CapstanError(
                .notFound, "Executor \(call.executorID) of framework \(call.frameworkID) is not known to this agent")
        }
        guard let framework = frameworks[call.frameworkID] else {
            throw CapstanError(.notFound, "Framework \(call.frameworkID) is not known to this agent")
        }
        let continuation = StreamSubscriber<ExecutorEvent>(limit: configuration.connectionLimits.streamBufferBytes)
        try record.state.subscribed(continuation, executorID: call.executorID)?.finish()
        continuation.yield(
            ExecutorEvent(
                type: .subscribed,
                subscribed: .init(
                    executorInfo: record.info, frameworkInfo: framework.info, agentInfo: agentInfo,
                    containerID: record.containerID)))
        // Tasks the executor says it has but never got an update for stay as they are; queued tasks are launched.
        for (taskID, task) in record.queued.sorted(by: { $0.key < $1.key }) {
            record.tasks[taskID] = task
            continuation.yield(ExecutorEvent(type: .launch, launch: .init(task: task.info)))
        }
        record.queued = [:]
        frameworks[call.frameworkID]?.executors[call.executorID] = record
        logger.info("Executor subscribed", metadata: ["framework_id": "\(call.frameworkID)", "executor_id": "\(call.executorID)"])
        return continuation
    }

    /// The executor's SUBSCRIBE stream closed.
    public func executorDisconnected(_ frameworkID: FrameworkID, _ executorID: ExecutorID) {
        modifyExecutor(frameworkID, executorID) { $0.state.disconnected() }
    }

    /// Executor UPDATE or MESSAGE.
    public func executorCall(_ call: ExecutorCall) async throws(CapstanError) {
        guard let record = executor(call.frameworkID, call.executorID) else {
            throw CapstanError(.notFound, "Executor \(call.executorID) of framework \(call.frameworkID) is not known to this agent")
        }
        switch call.type {
        case .subscribe:
            throw CapstanError(.invalidArgument, "SUBSCRIBE must be answered as a stream")
        case .update:
            guard var status = call.update?.status else {
                throw CapstanError(.invalidArgument, "Expecting 'update' to be present")
            }
            guard status.uuid != nil else {
                throw CapstanError(.invalidArgument, "Expecting 'update.status.uuid' to be present")
            }
            guard record.tasks[status.taskID] != nil || record.queued[status.taskID] != nil else {
                throw CapstanError(.invalidArgument, "Task \(status.taskID) in 'update.status.task_id' is not a task of executor \(call.executorID)")
            }
            if status.state == .taskStaging {
                throw CapstanError(.invalidArgument, "'update.status.state' must not be TASK_STAGING")
            }
            status.source = .sourceExecutor
            status.agentID = agentID
            status.executorID = call.executorID
            if status.timestamp == nil { status.timestamp = Date().timeIntervalSince1970 }
            if status.containerStatus == nil { status.containerStatus = ContainerStatus(containerID: record.containerID) }
            await self.record(status, frameworkID: call.frameworkID, executorID: call.executorID)
        case .message:
            guard let data = call.message?.data else {
                throw CapstanError(.invalidArgument, "Expecting 'message' to be present")
            }
            guard let agentID else { throw CapstanError(.unavailable, "Agent is not registered yet") }
            await messenger.executorMessage(
                FrameworkExecutorMessage(frameworkID: call.frameworkID, executorID: call.executorID, agentID: agentID, data: data))
        default:
            throw CapstanError(.invalidArgument, "Executor call type \(call.type?.rawValue ?? "UNKNOWN") is not supported")
        }
    }
}
