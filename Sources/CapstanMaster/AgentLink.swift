import CapstanAPI
import CapstanAPIClient
import CapstanCore
import Logging
import Synchronization

/// A message the master sends to an agent.
public enum AgentCommand: Sendable {
    case runTask(RunTaskMessage)
    case killTask(KillTaskMessage)
    case acknowledge(AcknowledgeMessage)
    case shutdownFramework(ShutdownMessage)
    case shutdownExecutor(ShutdownMessage)
    case frameworkMessage(FrameworkExecutorMessage)

    var path: String {
        switch self {
        case .runTask: InternalPath.runTask
        case .killTask: InternalPath.killTask
        case .acknowledge: InternalPath.acknowledge
        case .shutdownFramework: InternalPath.shutdownFramework
        case .shutdownExecutor: InternalPath.shutdownExecutor
        case .frameworkMessage: InternalPath.frameworkMessage
        }
    }
}

/// Delivers commands to agents, in order per agent, each on its own queue so a slow agent delays only itself.
/// A command that cannot be delivered after a few tries is dropped: the agent's re-registration and the
/// frameworks' reconciliation repair what it would have done.
public final class AgentLink: Sendable {
    private struct Queue: Sendable {
        var continuation: AsyncStream<(AgentCommand, HostPort)>.Continuation
    }
    private let queues = Mutex<[AgentID: Queue]>([:])
    private let poster: JSONPoster
    private let logger: Logger

    public init(poster: JSONPoster = JSONPoster(), logger: Logger) {
        self.poster = poster
        self.logger = logger
    }

    /// Queues `command` for the agent; never blocks.
    public func send(_ command: AgentCommand, to agentID: AgentID, at endpoint: HostPort) {
        let continuation = queues.withLock { queues in
            if let queue = queues[agentID] { return queue.continuation }
            let (stream, continuation) = AsyncStream.makeStream(of: (AgentCommand, HostPort).self, bufferingPolicy: .unbounded)
            queues[agentID] = Queue(continuation: continuation)
            let poster = self.poster
            let logger = self.logger
            Task.detached {
                for await (command, endpoint) in stream {
                    await Self.deliver(command, to: agentID, at: endpoint, poster: poster, logger: logger)
                }
            }
            return continuation
        }
        continuation.yield((command, endpoint))
    }

    /// Stops every queue.
    public func shutdown() {
        let all = queues.withLock { queues in
            defer { queues.removeAll() }
            return Array(queues.values)
        }
        for queue in all { queue.continuation.finish() }
    }

    private static func deliver(
        _ command: AgentCommand, to agentID: AgentID, at endpoint: HostPort, poster: JSONPoster, logger: Logger
    ) async {
        let url = endpoint.url + command.path
        for attempt in 1...3 {
            do {
                let reply: JSONPoster.Reply
                switch command {
                case .runTask(let m): reply = try await poster.post(m, to: url)
                case .killTask(let m): reply = try await poster.post(m, to: url)
                case .acknowledge(let m): reply = try await poster.post(m, to: url)
                case .shutdownFramework(let m), .shutdownExecutor(let m): reply = try await poster.post(m, to: url)
                case .frameworkMessage(let m): reply = try await poster.post(m, to: url)
                }
                if !reply.isSuccess {
                    logger.warning(
                        "Agent refused a command",
                        metadata: ["agent_id": "\(agentID)", "path": "\(command.path)", "status": "\(reply.status)", "reply": "\(reply.text)"])
                }
                return
            } catch {
                logger.debug("Agent command failed", metadata: ["agent_id": "\(agentID)", "attempt": "\(attempt)", "error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
        logger.warning("Dropping a command for an agent that cannot be reached", metadata: ["agent_id": "\(agentID)", "path": "\(command.path)"])
    }
}
