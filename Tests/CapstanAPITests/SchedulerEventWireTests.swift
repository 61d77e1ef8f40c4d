import CapstanAPI
import CapstanCore
import Foundation
import Testing

@Suite("SchedulerEvent wire format") struct SchedulerEventWireTests {
    @Test func decodesTheDocsSubscribed() throws {
        let event = try MesosJSON.decode(SchedulerEvent.self, from: try Golden.data("scheduler-event-subscribed"))
        #expect(event.type == .subscribed)
        #expect(event.subscribed?.frameworkID == "12220-3440-12532-2345")
        #expect(event.subscribed?.heartbeatIntervalSeconds == 15)
    }

    @Test func decodesTheDocsOffers() throws {
        let event = try MesosJSON.decode(SchedulerEvent.self, from: try Golden.data("scheduler-event-offers"))
        let offer = try #require(event.offers?.offers.first)
        #expect(offer.id == "12214-23523-O235235")
        #expect(offer.frameworkID == "12124-235325-32425")
        #expect(offer.agentID == "12325-23523-S23523")
        #expect(offer.hostname == "agent.host")
        #expect(offer.allocationInfo?.role == "engineering")
        #expect(
            offer.resources == [
                MesosResource(
                    name: "cpus", type: .scalar, scalar: ValueScalar(value: 2), role: "*",
                    allocationInfo: .init(role: "engineering"))
            ])
        #expect(offer.attributes == [MesosAttribute(name: "os", type: .text, text: ValueText(value: "ubuntu16.04"))])
        #expect(offer.executorIDs == ["12214-23523-my-executor"])
    }

    @Test func decodesTheDocsUpdateWithBase64Fields() throws {
        let event = try MesosJSON.decode(SchedulerEvent.self, from: try Golden.data("scheduler-event-update"))
        let status = try #require(event.update?.status)
        #expect(status.taskID == "12344-my-task")
        #expect(status.state == .taskRunning)
        #expect(status.source == .sourceExecutor)
        #expect(status.uuid?.base64 == "adfadfadbhgvjayd23r2uahj")
        #expect(status.uuid?.data.count == 18)
        #expect(status.data?.base64 == "uhdjfhuagdj63d7hadkf")
    }

    @Test func encodesHeartbeatAndErrorCompactly() throws {
        #expect(
            String(decoding: try MesosJSON.encode(SchedulerEvent.heartbeat), as: UTF8.self) == #"{"type":"HEARTBEAT"}"#)
        let error = SchedulerEvent(type: .error, error: .init(message: "Framework has been removed"))
        #expect(
            String(decoding: try MesosJSON.encode(error), as: UTF8.self)
                == #"{"error":{"message":"Framework has been removed"},"type":"ERROR"}"#)
    }

    @Test func updateCarriesReasonAndTimestamp() throws {
        let status = TaskStatus(
            taskID: "t", state: .taskFailed, message: "boom", source: .sourceAgent,
            reason: .reasonContainerLimitationMemory, agentID: "a", timestamp: 1_470_820_172.07315,
            unreachableTime: TimeInfo(nanoseconds: 1_470_820_172_046_531_840))
        let event = SchedulerEvent(type: .update, update: .init(status: status))
        let data = try MesosJSON.encode(event)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""reason":"REASON_CONTAINER_LIMITATION_MEMORY""#))
        #expect(text.contains(#""timestamp":1470820172.07315"#))
        #expect(text.contains(#""unreachable_time":{"nanoseconds":1470820172046531840}"#))
        #expect(try MesosJSON.decode(SchedulerEvent.self, from: data) == event)
    }

    @Test func decodesFailureWithoutExecutor() throws {
        let event = try MesosJSON.decode(
            SchedulerEvent.self, from: Data(#"{"type":"FAILURE","failure":{"agent_id":{"value":"s1"}}}"#.utf8))
        #expect(event.failure == .init(agentID: "s1"))
    }
}
