import CapstanAPI
import CapstanCore
import Foundation
import Testing

@Suite("Executor API wire format") struct ExecutorWireTests {
    @Test func decodesTheDocsSubscribeCall() throws {
        let call = try MesosJSON.decode(ExecutorCall.self, from: try Golden.data("executor-call-subscribe"))
        #expect(call.type == .subscribe)
        #expect(call.executorID == "387aa966-8fc5-4428-a794-5a868a60d3eb")
        let subscribe = try #require(call.subscribe)
        #expect(subscribe.unacknowledgedTasks.first?.command?.arguments == ["-l", "/tmp"])
        let update = try #require(subscribe.unacknowledgedUpdates.first)
        #expect(update.status.state == .taskRunning)
        #expect(update.status.uuid?.data == Data("d40f3f3e-bbe3-44af-a230-4cb1eae72f67\n".utf8))
    }

    @Test func callWithoutIDsIsRejected() throws {
        do {
            _ = try MesosJSON.decode(
                ExecutorCall.self, from: Data(#"{"type":"SUBSCRIBE","framework_id":{"value":"f"}}"#.utf8))
            Issue.record("decoded a call without executor_id")
        } catch {
            #expect(error.message == "invalid JSON: missing field 'executor_id'")
        }
    }

    @Test func subscribedEventRoundTrips() throws {
        let event = ExecutorEvent(
            type: .subscribed,
            subscribed: .init(
                executorInfo: ExecutorInfo(executorID: "e", frameworkID: "f", command: CommandInfo(value: "/bin/exec")),
                frameworkInfo: FrameworkInfo(user: "u", name: "n", id: "f"),
                agentInfo: AgentInfo(hostname: "h", port: 5051, id: "a"), containerID: "c"))
        let data = try MesosJSON.encode(event)
        #expect(try MesosJSON.decode(ExecutorEvent.self, from: data) == event)
        #expect(String(decoding: data, as: UTF8.self).contains(#""container_id":{"value":"c"}"#))
    }

    @Test func messageDataIsBase64() throws {
        let call = ExecutorCall(
            type: .message, executorID: "e", frameworkID: "f", message: .init(data: Base64Bytes(Data("hi".utf8))))
        #expect(String(decoding: try MesosJSON.encode(call), as: UTF8.self).contains(#""message":{"data":"aGk="}"#))
    }

    @Test func commandShellDefaultsToTrue() {
        #expect(CommandInfo(value: "ls").runsInShell)
        #expect(!CommandInfo(shell: false, value: "/bin/ls").runsInShell)
    }
}
