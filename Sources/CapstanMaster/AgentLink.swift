import CapstanAPI
import CapstanAPIClient
import CapstanAuth
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
    case checkpointResources(CheckpointResourcesMessage)

    var path: String {
        switch self {
        case .runTask: InternalPath.runTask
        case .killTask: InternalPath.killTask
        case .acknowledge: InternalPath.acknowledge
        case .shutdownFramework: InternalPath.shutdownFramework
        case .shutdownExecutor: InternalPath.shutdownExecutor
        case .frameworkMessage: InternalPath.frameworkMessage
        case .checkpointResources: InternalPath.checkpointResources
        }
    }
}

/// Where the master's commands to agents go: ``AgentLink`` over HTTP in a running master, a recorder in the
/// master's unit tests.
public protocol AgentMessenger: Sendable {
    /// Queues `command` for the agent; never blocks.
    func send(_ command: AgentCommand, to agentID: AgentID, at endpoint: HostPort)
    /// Records the principal an agent authenticated as (nil when agents are not authenticated).
    func setPrincipal(_ principal: String?, for agentID: AgentID)
    /// Stops delivering.
    func shutdown()
}

/// Delivers commands to agents, in order per agent, each on its own queue so a slow agent delays only itself.
/// A command that cannot be delivered after a few tries is dropped: the agent's re-registration and the
/// frameworks' reconciliation repair what it would have done.
public final class AgentLink: AgentMessenger {
    private struct Queue: Sendable {
        var continuation: AsyncStream<(AgentCommand, HostPort)>.Continuation
    }
    private let queues = Mutex<[AgentID: Queue]>([:])
    /// The credential each agent registered with: commands to it are signed with that agent's own secret.
    private let principals = Mutex<[AgentID: String]>([:])
    private let credentials: CredentialSet?
    private let poster: JSONPoster
    private let logger: Logger

    /// With `credentials`, every command is signed as the principal its agent registered with; a command for an
    /// agent whose principal is unknown is dropped rather than sent unsigned.
    public init(poster: JSONPoster = JSONPoster(), credentials: CredentialSet? = nil, logger: Logger) {
        self.poster = poster
        self.credentials = credentials
        self.logger = logger
    }

    /// Records the principal an agent authenticated as (nil when agents are not authenticated).
    public func setPrincipal(_ principal: String?, for agentID: AgentID) {
        principals.withLock { $0[agentID] = principal }
    }

    private func signedPoster(for agentID: AgentID) -> JSONPoster? {
        guard let credentials else { return poster }
        guard let principal = principals.withLock({ $0[agentID] }), let secret = credentials.secret(of: principal) else { return nil }
        return poster.signing(as: .init(principal: principal, secret: secret))
    }

    /// Queues `command` for the agent; never blocks.
    public func send(_ command: AgentCommand, to agentID: AgentID, at endpoint: HostPort) {
        let continuation = queues.withLock { queues in
            if let queue = queues[agentID] { return queue.continuation }
            let (stream, continuation) = AsyncStream.makeStream(of: (AgentCommand, HostPort).self, bufferingPolicy: .unbounded)
            queues[agentID] = Queue(continuation: continuation)
            let logger = self.logger
            Task.detached { [weak self] in
                for await (command, endpoint) in stream {
                    guard let poster = self?.signedPoster(for: agentID) else {
                        logger.warning("Dropping a command for an agent with no known credential", metadata: ["agent_id": "\(agentID)"])
                        continue
                    }
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
                case .checkpointResources(let m): reply = try await poster.post(m, to: url)
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
