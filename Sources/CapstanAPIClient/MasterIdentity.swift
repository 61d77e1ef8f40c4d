import CapstanAPI
import CapstanCore
import Foundation

/// Tells a master from an agent when a command was pointed at one with `--master`. Both speak the v1 operator API,
/// so a command reading an agent as if it were the master would see an empty cluster or no reconciler; these checks
/// turn that into one sentence.
public enum MasterIdentity {
    /// What a command says when `address` is an agent.
    public static func agentMessage(_ address: HostPort) -> String {
        "\(address) is an agent, not a master; pass the master's address with --master (or CAPSTAN_MASTER)"
    }

    /// Whether `address` answers as an agent does: its operator API does not know the master's `GET_AGENTS` call.
    /// Asked only once something already went wrong, so that the usual path costs nothing.
    public static func isAgent(_ address: HostPort, poster: JSONPoster) async -> Bool {
        guard let reply = try? await poster.post(OperatorCall(type: .getAgents), to: address.url + "/api/v1") else { return false }
        return isAgentRefusal(status: reply.status, text: reply.text)
    }

    /// An agent's answer to a master-only operator call: 400, naming the agent's call type.
    public static func isAgentRefusal(status: Int, text: String) -> Bool {
        status == 400 && text.contains("AgentOperatorCall")
    }

    /// Whether an answer to GET_TASKS came from an agent: only an agent's lists `launched_tasks` or `queued_tasks`.
    public static func isAgentTaskList(_ body: Data) -> Bool {
        let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any]
        return (object?["get_tasks"] as? [String: Any])?.keys.contains { $0 == "launched_tasks" || $0 == "queued_tasks" } == true
    }

    /// Whether a `GET_STATE` answer came from an agent: a master's always has `get_agents`.
    public static func isAgentState(_ state: OperatorResponse.GetState) -> Bool { state.getAgents == nil }
}
