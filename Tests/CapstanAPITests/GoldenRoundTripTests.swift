import CapstanAPI
import Foundation
import Testing

/// Decodes each golden document into its wire type, re-encodes it and compares the two as parsed JSON, so every
/// field the Mesos docs show survives a round trip.
@Suite("Golden documents round-trip") struct GoldenRoundTripTests {
    @Test(arguments: Golden.names("scheduler-call-"))
    func schedulerCall(_ name: String) throws { try roundTrip(SchedulerCall.self, name) }

    @Test(arguments: Golden.names("scheduler-event-"))
    func schedulerEvent(_ name: String) throws { try roundTrip(SchedulerEvent.self, name) }

    @Test(arguments: Golden.names("executor-call-"))
    func executorCall(_ name: String) throws { try roundTrip(ExecutorCall.self, name) }

    @Test(arguments: Golden.names("executor-event-"))
    func executorEvent(_ name: String) throws { try roundTrip(ExecutorEvent.self, name) }

    @Test(arguments: Golden.names("operator-call-"))
    func operatorCall(_ name: String) throws { try roundTrip(OperatorCall.self, name) }

    @Test(arguments: Golden.names("operator-response-"))
    func operatorResponse(_ name: String) throws { try roundTrip(OperatorResponse.self, name) }

    @Test(arguments: Golden.names("operator-event-"))
    func operatorEvent(_ name: String) throws { try roundTrip(OperatorEvent.self, name) }

    @Test(arguments: Golden.names("agent-call-"))
    func agentCall(_ name: String) throws { try roundTrip(AgentOperatorCall.self, name) }

    @Test(arguments: Golden.names("agent-response-"))
    func agentResponse(_ name: String) throws { try roundTrip(AgentOperatorResponse.self, name) }

    @Test func everyGoldenFileIsCovered() {
        let prefixes = [
            "scheduler-call-", "scheduler-event-", "executor-call-", "executor-event-", "operator-call-",
            "operator-response-", "operator-event-", "agent-call-", "agent-response-",
        ]
        let covered = prefixes.flatMap { Golden.names($0) }
        #expect(covered.count == Golden.names("").count)
        #expect(covered.count > 40)
    }

    private func roundTrip<T: Codable>(_ type: T.Type, _ name: String) throws {
        let original = try Golden.data(name)
        let decoded = try MesosJSON.decode(T.self, from: original)
        let encoded = try MesosJSON.encode(decoded)
        let before = try JSONValue.parse(original).droppingEmptyArrays
        let after = try JSONValue.parse(encoded).droppingEmptyArrays
        let differences = before.differences(from: after)
        #expect(differences.isEmpty, "\(name): \(differences.joined(separator: "; "))")
        // Decoding the re-encoded form gives the same value: encoding is stable.
        let again = try MesosJSON.encode(try MesosJSON.decode(T.self, from: encoded))
        #expect(again == encoded, "\(name): second encoding differs")
    }
}
