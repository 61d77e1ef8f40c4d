import CapstanAPI
import CapstanCore

/// Acknowledgements for agents the master does not know yet.
///
/// After a master restart a framework may acknowledge an update (received from the old master) before the agent that
/// sent it has re-registered. Mesos accepts such an ACKNOWLEDGE and drops it, so the agent sends the update again. The
/// master holds it instead: the call is accepted, the agent gets the acknowledgement when it registers, and should the
/// agent re-send the acknowledged update meanwhile, the master answers it with the acknowledgement rather than
/// delivering it to the framework a second time. At most `capacity` are held; the oldest go first.
struct HeldAcknowledgements: Sendable {
    /// One acknowledged update.
    struct Key: Hashable, Sendable {
        var frameworkID: FrameworkID
        var taskID: TaskID
        var uuid: Base64Bytes
    }

    let capacity: Int
    private var agents: [Key: AgentID] = [:]
    /// Oldest first; may name keys taken already.
    private var order: [Key] = []

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// Holds an acknowledgement for `agentID`.
    mutating func hold(_ key: Key, for agentID: AgentID) {
        guard agents.updateValue(agentID, forKey: key) == nil else { return }
        order.append(key)
        if agents.count > capacity {
            var excess = agents.count - capacity
            var dropped = 0
            while excess > 0 && dropped < order.count {
                if agents.removeValue(forKey: order[dropped]) != nil { excess -= 1 }
                dropped += 1
            }
            order.removeFirst(dropped)
        }
        if order.count > 2 * max(capacity, agents.count) { order = order.filter { agents[$0] != nil } }
    }

    /// The acknowledgements held for `agentID` (they stay held, to answer a re-sent update).
    func messages(for agentID: AgentID) -> [AcknowledgeMessage] {
        var seen = Set<Key>()
        return order.filter { agents[$0] == agentID && seen.insert($0).inserted }
            .map { AcknowledgeMessage(frameworkID: $0.frameworkID, taskID: $0.taskID, uuid: $0.uuid) }
    }

    /// Whether the update `key` was acknowledged while it was held; a match is no longer held.
    mutating func take(_ key: Key) -> Bool {
        agents.removeValue(forKey: key) != nil
    }

    /// Forgets a removed framework's acknowledgements.
    mutating func removeFramework(_ frameworkID: FrameworkID) {
        agents = agents.filter { $0.key.frameworkID != frameworkID }
        order = order.filter { agents[$0] != nil }
    }
}
