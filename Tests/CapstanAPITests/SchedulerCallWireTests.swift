import CapstanAPI
import CapstanCore
import Foundation
import Testing

@Suite("SchedulerCall wire format") struct SchedulerCallWireTests {
    private func json(_ value: some Encodable) throws -> String {
        String(decoding: try MesosJSON.encode(value), as: UTF8.self)
    }

    @Test func decodesTheDocsAcceptWithLaunch() throws {
        let call = try MesosJSON.decode(SchedulerCall.self, from: try Golden.data("scheduler-call-accept"))
        #expect(call.type == .accept)
        #expect(call.frameworkID == "12220-3440-12532-2345")
        let accept = try #require(call.accept)
        #expect(accept.offerIDs == ["12220-3440-12532-O12"])
        #expect(accept.filters?.refuseSeconds == 5)
        let operation = try #require(accept.operations.first)
        #expect(operation.type == .launch)
        let task = try #require(operation.launch?.taskInfos.first)
        #expect(task.name == "My Task")
        #expect(task.taskID == "12220-3440-12532-my-task")
        #expect(task.agentID == "12220-3440-12532-S1233")
        #expect(task.executor?.command?.value == "sleep 1000")
        #expect(task.executor?.command?.shell == true)
        #expect(task.resources.map(\.name) == ["cpus", "mem"])
        #expect(task.resources[1].scalar?.value == 128)
        #expect(task.resources[0].allocationInfo?.role == "engineering")
    }

    @Test func missingRepeatedFieldsDecodeAsEmptyArrays() throws {
        let call = try MesosJSON.decode(
            SchedulerCall.self,
            from: Data(#"{"type":"RECONCILE","framework_id":{"value":"f"},"reconcile":{}}"#.utf8))
        #expect(call.reconcile?.tasks == [])
        let accept = try MesosJSON.decode(
            SchedulerCall.self,
            from: Data(#"{"type":"ACCEPT","accept":{"operations":[{"type":"LAUNCH","launch":{}}]}}"#.utf8))
        #expect(accept.accept?.offerIDs == [])
        #expect(accept.accept?.operations.first?.launch?.taskInfos == [])
        let subscribe = try MesosJSON.decode(
            SchedulerCall.self,
            from: Data(#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}}"#.utf8))
        #expect(subscribe.subscribe?.frameworkInfo.roles == [])
        #expect(subscribe.subscribe?.frameworkInfo.capabilities == [])
        #expect(subscribe.subscribe?.suppressedRoles == [])
    }

    @Test func nullRepeatedFieldDecodesAsEmpty() throws {
        let call = try MesosJSON.decode(
            SchedulerCall.self, from: Data(#"{"type":"DECLINE","decline":{"offer_ids":null}}"#.utf8))
        #expect(call.decline?.offerIDs == [])
    }

    @Test func encodesAKillCallExactly() throws {
        let call = SchedulerCall(
            type: .kill, frameworkID: "f1",
            kill: .init(taskID: "t1", killPolicy: KillPolicy(gracePeriod: DurationInfo(nanoseconds: 5_000_000_000))))
        #expect(
            try json(call)
                == #"{"framework_id":{"value":"f1"},"kill":{"kill_policy":{"grace_period":{"nanoseconds":5000000000}},"task_id":{"value":"t1"}},"type":"KILL"}"#
        )
    }

    @Test func acknowledgeUUIDRoundTripsAsBase64() throws {
        let uuid = Base64Bytes([
            0x85, 0x36, 0x8b, 0x43, 0x46, 0xf9, 0x43, 0x53, 0x99, 0xb9, 0xa6, 0xfb, 0x41, 0xc9, 0x53, 0x29,
        ])
        let call = SchedulerCall(
            type: .acknowledge, frameworkID: "f", acknowledge: .init(agentID: "a", taskID: "t", uuid: uuid))
        let text = try json(call)
        #expect(text.contains(#""uuid":"hTaLQ0b5Q1OZuab7QclTKQ==""#))
        let decoded = try MesosJSON.decode(SchedulerCall.self, from: Data(text.utf8))
        #expect(decoded.acknowledge?.uuid == uuid)
        #expect(decoded.acknowledge?.uuid.data.count == 16)
    }

    @Test func base64AcceptsURLSafeAndUnpaddedInput() throws {
        #expect(Base64Bytes(base64: "hTaLQ0b5Q1OZuab7QclTKQ")?.base64 == "hTaLQ0b5Q1OZuab7QclTKQ==")
        #expect(Base64Bytes(base64: "-_8")?.data == Data([0xfb, 0xff]))
        #expect(Base64Bytes(base64: "a") == nil)
        #expect(Base64Bytes(base64: "%%%%") == nil)
    }

    @Test func reviveAndSuppressCarryRoles() throws {
        let revive = try MesosJSON.decode(SchedulerCall.self, from: try Golden.data("scheduler-call-revive"))
        #expect(revive.revive?.role == "test1")
        let suppress = try MesosJSON.decode(SchedulerCall.self, from: try Golden.data("scheduler-call-suppress"))
        #expect(suppress.suppress?.roles == ["test2"])
    }

    @Test func launchGroupHasExecutorAndTaskGroup() throws {
        let executor = ExecutorInfo(
            type: .default, executorID: "e", frameworkID: "f", resources: [.scalar("cpus", 0.1)])
        let task = TaskInfo(name: "t", taskID: "t", agentID: "a", resources: [.scalar("mem", 32)])
        let call = SchedulerCall(
            type: .accept, frameworkID: "f",
            accept: .init(offerIDs: ["o"], operations: [.launchGroup(executor: executor, tasks: [task])]))
        let text = try json(call)
        #expect(text.contains(#""type":"LAUNCH_GROUP""#))
        #expect(text.contains(#""launch_group":{"executor":{"executor_id":{"value":"e"}"#))
        #expect(text.contains(#""task_group":{"tasks":[{"agent_id":{"value":"a"}"#))
        #expect(try MesosJSON.decode(SchedulerCall.self, from: Data(text.utf8)) == call)
    }

    @Test func rangesAcceptInt64AsStrings() throws {
        let resource = try MesosJSON.decode(
            MesosResource.self,
            from: Data(#"{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":"31000","end":"32000"}]}}"#.utf8))
        #expect(resource.ranges?.range == [MesosValueRange(begin: 31000, end: 32000)])
        #expect(
            try json(resource) == #"{"name":"ports","ranges":{"range":[{"begin":31000,"end":32000}]},"type":"RANGES"}"#)
    }

    @Test func int64StringThatIsNotANumberNamesThePath() throws {
        let bad = Data(#"{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":"lots","end":1}]}}"#.utf8)
        #expect(throws: MesosJSONError.self) { _ = try MesosJSON.decode(MesosResource.self, from: bad) }
        do {
            _ = try MesosJSON.decode(MesosResource.self, from: bad)
        } catch {
            #expect(error.path == "ranges.range[0].begin")
        }
    }

    @Test func optionalFieldsAreOmittedWhenNil() throws {
        let info = FrameworkInfo(user: "root", name: "capstan")
        #expect(try json(info) == #"{"name":"capstan","user":"root"}"#)
        let status = TaskStatus(taskID: "t", state: .taskRunning)
        #expect(try json(status) == #"{"state":"TASK_RUNNING","task_id":{"value":"t"}}"#)
    }
}
