import CapstanAPI
import CapstanCore
import Foundation

/// The Mesos v1 JSON decoders the master, agent and clients run on bytes from the network: every call,
/// event and response type, the internal agent/master messages, and the resource conversion. What decodes
/// must encode again and decode from its own encoding.
struct JSONFuzzTarget: FuzzTarget {
    let maximumLength = 64 << 10
    let dictionary = tokens([
        "{", "}", "[", "]", ",", ":", "\"", "\\\"", "\\u0000", "\\ud800", "\\", "null", "true", "false", "{\"value\":\"x\"}",
        "\"type\":", "\"SUBSCRIBE\"", "\"ACCEPT\"", "\"LAUNCH\"", "\"LAUNCH_GROUP\"", "\"KILL\"", "\"UPDATE\"", "\"MESSAGE\"",
        "\"GET_STATE\"", "\"SCALAR\"", "\"RANGES\"", "\"SET\"", "\"TEXT\"", "\"framework_id\":", "\"agent_id\":",
        "\"task_id\":", "\"resources\":", "\"name\":", "\"scalar\":", "\"ranges\":", "\"range\":", "\"begin\":", "\"end\":",
        "\"set\":", "\"item\":", "\"role\":", "\"data\":", "\"uuid\":", "\"timestamp\":", "\"state\":", "\"TASK_RUNNING\"",
        "\"command\":", "\"container\":", "\"volumes\":", "\"labels\":", "\"health_check\":", "\"executor\":",
        "\"operations\":", "\"offer_ids\":", "\"filters\":", "\"refuse_seconds\":", "\"AAAA\"", "\"====\"", "-0",
        "18446744073709551615", "18446744073709551616", "1e400", "-1e400", "\"NaN\"", "\"Infinity\"",
    ])

    func run(_ input: [UInt8]) throws(FuzzFinding) {
        let data = Data(input)
        try roundTrip(SchedulerCall.self, data)
        try roundTrip(SchedulerEvent.self, data)
        try roundTrip(ExecutorCall.self, data)
        try roundTrip(ExecutorEvent.self, data)
        try roundTrip(OperatorCall.self, data)
        try roundTrip(OperatorEvent.self, data)
        try roundTrip(OperatorResponse.self, data)
        try roundTrip(AgentOperatorCall.self, data)
        try roundTrip(AgentOperatorResponse.self, data)
        try roundTrip(RegisterAgentMessage.self, data)
        try roundTrip(AgentRegisteredMessage.self, data)
        try roundTrip(AgentHeartbeatMessage.self, data)
        try roundTrip(StatusUpdateMessage.self, data)
        try roundTrip(RunTaskMessage.self, data)
        try roundTrip(KillTaskMessage.self, data)
        try roundTrip(AcknowledgeMessage.self, data)
        try roundTrip(ShutdownMessage.self, data)
        try roundTrip(FrameworkExecutorMessage.self, data)
        if let wire = try? MesosJSON.decode([MesosResource].self, from: data), let resources = try? Resources(mesos: wire) {
            // What the allocator does with offered and used resources.
            let sum = resources + resources
            _ = sum - resources
            _ = sum.contains(resources)
            _ = resources.mesos
        }
    }

    private func roundTrip<T: Codable>(_ type: T.Type, _ data: Data) throws(FuzzFinding) {
        guard let value = try? MesosJSON.decode(T.self, from: data) else { return }
        let encoded: Data
        do {
            encoded = try MesosJSON.encode(value)
        } catch {
            throw FuzzFinding("\(T.self) decoded but does not encode: \(error)")
        }
        do {
            _ = try MesosJSON.decode(T.self, from: encoded)
        } catch {
            throw FuzzFinding("\(T.self) does not decode its own encoding: \(error)")
        }
    }
}
