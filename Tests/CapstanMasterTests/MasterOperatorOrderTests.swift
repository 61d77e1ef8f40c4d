import CapstanAPI
import CapstanCore
import Foundation
import Testing

@testable import CapstanMaster

/// The order GET_TASKS and GET_EXECUTORS list things in: by framework ID, then by task (or agent and executor) ID,
/// whatever order they were launched in. The master sorts the IDs rather than its records (cheaper on its actor);
/// this pins the order that change must keep.
@Suite("Master operator order")
struct MasterOperatorOrderTests {
    @Test("GET_TASKS, GET_EXECUTORS and GET_STATE list by framework ID, then by task or executor ID")
    func listsInIDOrder() async throws {
        let fixture = MasterFixture()
        var launched: [FrameworkID: [TaskID]] = [:]
        for (index, names) in [["c", "a", "b"], ["z", "x", "y"], ["n", "m"]].enumerated() {
            _ = try await fixture.registerAgent("cpus:2;mem:1024", hostname: "h\(index)")
            let framework = try await fixture.subscribe(name: "order-\(index)")
            _ = try await framework.next(.subscribed)
            await fixture.allocate()
            let offer = try #require(try await framework.next(.offers).offers?.offers.first)
            let tasks = names.map { name in
                var info = TaskInfo(
                    name: name, taskID: TaskID("\(name)-\(index)"), agentID: offer.agentID,
                    resources: Resources([.scalar("cpus", 0.1), .scalar("mem", 16)]).mesos)
                info.executor = ExecutorInfo(
                    executorID: ExecutorID("exec-\(name)-\(index)"), frameworkID: framework.id, command: CommandInfo(value: "sleep 60"))
                return info
            }
            let accept = SchedulerCall(
                type: .accept, frameworkID: framework.id,
                accept: .init(offerIDs: [offer.id], operations: [Offer.Operation(type: .launch, launch: .init(taskInfos: tasks))]))
            try await fixture.master.handle(accept, streamID: framework.streamID)
            launched[framework.id] = tasks.map(\.taskID)
        }
        let expected = launched.keys.sorted().flatMap { launched[$0]!.sorted() }
        #expect(expected.count == 8)

        let tasks = try #require(try await fixture.master.operatorCall(OperatorCall(type: .getTasks)).getTasks)
        #expect(tasks.tasks.map(\.taskID) == expected)
        let executors = try #require(try await fixture.master.operatorCall(OperatorCall(type: .getExecutors)).getExecutors)
        #expect(executors.executors.map(\.executorInfo.executorID.value) == expected.map { "exec-" + $0.value })
        let state = try #require(try await fixture.master.operatorCall(OperatorCall(type: .getState)).getState)
        #expect(state.getTasks?.tasks.map(\.taskID) == expected)
    }
}
