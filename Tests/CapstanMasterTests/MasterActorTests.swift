import CapstanAPI
import CapstanCore
import Foundation
import Testing

@testable import CapstanMaster

/// The master's actor driven directly — no processes, no sockets: agents register by message, frameworks read
/// their event streams, and what the master sends to agents is recorded.
@Suite("Master actor")
struct MasterActorTests {
    @Test("A framework subscribes, gets SUBSCRIBED, then one offer with the registered agent's resources")
    func subscribeThenOffer() async throws {
        let fixture = MasterFixture()
        let agent = try await fixture.registerAgent("cpus:2;mem:1024;ports:[31000-31009]")
        let framework = try await fixture.subscribe()
        let subscribed = try await framework.next(.subscribed)
        #expect(subscribed.subscribed?.frameworkID == framework.id)
        await fixture.allocate()
        let offers = try #require(try await framework.next(.offers).offers?.offers)
        #expect(offers.count == 1)
        #expect(offers.first?.agentID == agent)
        let resources = try Resources(mesos: try #require(offers.first).resources)
        #expect(resources.cpus == 2 && resources.mem == 1024)
        #expect(resources.ranges("ports") == [ValueRange(begin: 31000, end: 31009)])
    }

    @Test("ACCEPT: a LAUNCH that fits goes to its agent as one run-task; one asking more than the offer is TASK_ERROR and never reaches the agent")
    func acceptLaunchesOrRefuses() async throws {
        let fixture = MasterFixture()
        let agent = try await fixture.registerAgent("cpus:1;mem:256")
        let framework = try await fixture.subscribe()
        _ = try await framework.next(.subscribed)
        await fixture.allocate()
        let offer = try #require(try await framework.next(.offers).offers?.offers.first)

        func task(_ id: String, cpus: Double) -> TaskInfo {
            var info = TaskInfo(name: id, taskID: TaskID(id), agentID: agent, resources: Resources([.scalar("cpus", cpus), .scalar("mem", 32)]).mesos)
            info.command = CommandInfo(value: "sleep 60")
            return info
        }
        let accept = SchedulerCall(
            type: .accept, frameworkID: framework.id,
            accept: .init(offerIDs: [offer.id], operations: [
                Offer.Operation(type: .launch, launch: .init(taskInfos: [task("fits", cpus: 0.5), task("too-big", cpus: 4)])),
            ]))
        try await fixture.master.handle(accept, streamID: framework.streamID)

        let update = try await framework.next(.update)
        #expect(update.update?.status.taskID == TaskID("too-big"))
        #expect(update.update?.status.state == .taskError)
        #expect(update.update?.status.message?.contains("cpus") == true, "\(update.update?.status.message ?? "")")
        #expect(fixture.messenger.runTasks.map(\.task.taskID) == [TaskID("fits")])
    }

    @Test("A call on another framework's stream is refused, and a framework ID that is a path never gets in")
    func streamsAndIDsAreChecked() async throws {
        let fixture = MasterFixture()
        let first = try await fixture.subscribe(name: "one")
        let second = try await fixture.subscribe(name: "two")
        let revive = SchedulerCall(type: .revive, frameworkID: first.id)
        let refused = await #expect(throws: CapstanError.self) { try await fixture.master.handle(revive, streamID: second.streamID) }
        #expect(refused?.code == .permissionDenied || refused?.code == .invalidArgument, "\(String(describing: refused))")
        try await fixture.master.handle(revive, streamID: first.streamID)

        let traversal = await #expect(throws: CapstanError.self) {
            _ = try await fixture.master.subscribe(
                .init(frameworkInfo: FrameworkInfo(user: "root", name: "evil", id: FrameworkID("../../tmp/victim"))), callFrameworkID: nil)
        }
        #expect(traversal?.code == .invalidArgument)
        #expect(traversal?.message.contains("framework_info.id") == true, "\(String(describing: traversal))")
    }
}
