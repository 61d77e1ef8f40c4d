import CapstanAPI
import CapstanAPIClient
import CapstanCore

/// Where the agent's messages to the master go (besides registration and heartbeats, which ``AgentService`` runs):
/// ``HTTPMasterMessenger`` in a running agent, a recorder in the agent's unit tests.
public protocol MasterMessenger: Sendable {
    /// Delivers a status update (the ``StatusUpdateManager`` retries it until the framework acknowledges it).
    /// - Throws: when the master cannot be reached or refuses the update.
    func statusUpdate(_ message: StatusUpdateMessage) async throws

    /// Relays a custom executor's MESSAGE to its framework, at most once (a failure is dropped, as Mesos does).
    func executorMessage(_ message: FrameworkExecutorMessage) async
}

/// Posts the agent's messages to the master's internal endpoints.
public struct HTTPMasterMessenger: MasterMessenger {
    let poster: JSONPoster
    /// The master's address, asked for each call (in `capstan up` it is known only once the master listens).
    let master: @Sendable () async throws -> HostPort

    public init(poster: JSONPoster, master: HostPort) {
        self.init(poster: poster) { master }
    }

    public init(poster: JSONPoster, master: @escaping @Sendable () async throws -> HostPort) {
        self.poster = poster
        self.master = master
    }

    public func statusUpdate(_ message: StatusUpdateMessage) async throws {
        let reply = try await poster.post(message, to: try await master().url + InternalPath.statusUpdate)
        guard reply.isSuccess else { throw CapstanError(.unavailable, "master answered \(reply.status): \(reply.text)") }
    }

    public func executorMessage(_ message: FrameworkExecutorMessage) async {
        guard let address = try? await master() else { return }
        _ = try? await poster.post(message, to: address.url + InternalPath.executorMessage)
    }
}
