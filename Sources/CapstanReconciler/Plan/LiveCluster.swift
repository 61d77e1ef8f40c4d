import CapstanAPI
import CapstanAPIClient
import CapstanCore
import Foundation

/// A master's operator API, read for planning: one `GET_STATE` call.
public struct LiveCluster: Sendable {
    public let master: HostPort
    public let poster: JSONPoster

    public init(master: HostPort, poster: JSONPoster = JSONPoster()) {
        self.master = master
        self.poster = poster
    }

    /// The master's `GET_STATE` answer; `unavailable` when it cannot be reached.
    public func state() async throws -> OperatorResponse.GetState {
        let response = try await poster.call(
            OperatorCall(type: .getState), to: master.url + "/api/v1", expecting: OperatorResponse.self)
        guard let state = response.getState else {
            throw CapstanError(.internal, "the master at \(master) answered GET_STATE without get_state")
        }
        // An agent answers GET_STATE too, with no agents: planning against it would read as an empty cluster.
        if MasterIdentity.isAgentState(state) { throw CapstanError(.invalidArgument, MasterIdentity.agentMessage(master)) }
        return state
    }

    /// The cluster's Capstan tasks and its agents' free resources, as `role` sees them.
    public func snapshot(role: String = Resource.unreservedRole) async throws -> ClusterSnapshot {
        try ClusterSnapshot(state: try await state(), role: role)
    }
}
