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

    /// Values a field may be given in place of its own: numbers at the edges of every type, and the wrong types.
    private static let values = tokens([
        "0", "-1", "1.5", "-0", "1e400", "-1e400", "1e308", "4294967296", "9223372036854775807", "9223372036854775808",
        "18446744073709551615", "18446744073709551616", "-9223372036854775809", "\"9223372036854775808\"", "\"-1\"",
        "\"\"", "\"../../x\"", "\"AAAA\"", "\"A\"", "\"====\"", "\"\\u0000\"", "\"\\ud800\"", "null", "true", "[]", "{}",
        "[{}]", "{\"value\":\"\"}", "{\"value\":1}", "[{\"begin\":5,\"end\":1}]", "[{\"begin\":0,\"end\":18446744073709551615}]",
    ])

    /// Replaces the value after a `":` (up to the next `,`, `}` or `]`) with one of ``values``.
    func mutate(_ input: inout [UInt8], using random: inout SplitMix64) -> Bool {
        let starts = input.indices.dropLast().filter { input[$0] == UInt8(ascii: "\"") && input[$0 + 1] == UInt8(ascii: ":") }.map { $0 + 2 }
        guard !starts.isEmpty else { return false }
        let start = starts[random.below(starts.count)]
        var end = start
        var depth = 0
        while end < input.count {
            let byte = input[end]
            if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") { depth += 1 }
            if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                if depth == 0 { break }
                depth -= 1
            }
            if byte == UInt8(ascii: ","), depth == 0 { break }
            end += 1
        }
        input.replaceSubrange(start..<end, with: Self.values[random.below(Self.values.count)])
        return true
    }

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
