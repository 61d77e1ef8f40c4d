import CapstanAPI
import CapstanCore
import Foundation
import Testing

@testable import CapstanMaster

/// Maintenance on the master's actor: inverse offers follow the schedule, answers are recorded, DOWN removes and
/// refuses agents.
@Suite("Master maintenance")
struct MasterMaintenanceTests {
    static func schedule(_ hostname: String, start: Int64) -> MaintenanceSchedule {
        MaintenanceSchedule(windows: [
            .init(machineIDs: [MesosMachineID(hostname: hostname)], unavailability: Unavailability(start: TimeInfo(nanoseconds: start)))
        ])
    }

    /// The next event of `type`, skipping others (at most 20).
    static func next(_ type: SchedulerEvent.Kind, on framework: MasterFixture.Framework) async throws -> SchedulerEvent {
        for _ in 0..<20 {
            let event = try await framework.next()
            if event.type == type { return event }
        }
        throw CapstanError(.timeout, "no \(type) event among the next 20")
    }

    @Test("A schedule change rescinds the inverse offer and sends one with the new unavailability; DECLINE is recorded")
    func scheduleChangeRescindsInverseOffers() async throws {
        let fixture = MasterFixture()
        let agent = try await fixture.registerAgent("cpus:1;mem:256", hostname: "h1")
        let framework = try await fixture.subscribe()
        await fixture.allocate()
        let offer = try #require(try await Self.next(.offers, on: framework).offers?.offers.first)
        var task = TaskInfo(name: "t", taskID: "t", agentID: agent, resources: Resources([.scalar("cpus", 0.5)]).mesos)
        task.command = CommandInfo(value: "sleep 60")
        try await fixture.master.handle(
            SchedulerCall(
                type: .accept, frameworkID: framework.id,
                accept: .init(offerIDs: [offer.id], operations: [.init(type: .launch, launch: .init(taskInfos: [task]))], filters: Filters(refuseSeconds: 3600))),
            streamID: framework.streamID)

        try await fixture.master.updateMaintenanceSchedule(Self.schedule("H1", start: 1_000), field: "schedule")
        let first = try #require(try await Self.next(.inverseOffers, on: framework).inverseOffers?.inverseOffers.first)
        #expect(first.agentID == agent && first.unavailability.start.nanoseconds == 1_000)

        // The same schedule again changes nothing; a new start rescinds and re-asks.
        try await fixture.master.updateMaintenanceSchedule(Self.schedule("h1", start: 1_000), field: "schedule")
        try await fixture.master.updateMaintenanceSchedule(Self.schedule("h1", start: 2_000), field: "schedule")
        let rescind = try await Self.next(.rescindInverseOffer, on: framework)
        #expect(rescind.rescindInverseOffer?.inverseOfferID == first.id)
        let second = try #require(try await Self.next(.inverseOffers, on: framework).inverseOffers?.inverseOffers.first)
        #expect(second.id != first.id && second.unavailability.start.nanoseconds == 2_000)

        // Answering the rescinded one does nothing; declining the live one is recorded.
        for id in [first.id, second.id] {
            try await fixture.master.handle(
                SchedulerCall(type: .declineInverseOffers, frameworkID: framework.id, declineInverseOffers: .init(inverseOfferIDs: [id])),
                streamID: framework.streamID)
        }
        let status = await fixture.master.maintenanceStatus()
        #expect(status.drainingMachines.first?.statuses.map(\.status) == [.decline])
        #expect(status.drainingMachines.first?.statuses.first?.frameworkID == framework.id)
    }

    @Test("START removes the agent (TASK_LOST, FAILURE, its framework shut down) and refuses it until STOP")
    func downRemovesAndRefuses() async throws {
        let fixture = MasterFixture()
        let agent = try await fixture.registerAgent("cpus:1;mem:256", hostname: "h1")
        let framework = try await fixture.subscribe()
        await fixture.allocate()
        let offer = try #require(try await Self.next(.offers, on: framework).offers?.offers.first)
        var task = TaskInfo(name: "t", taskID: "t", agentID: agent, resources: Resources([.scalar("cpus", 0.5)]).mesos)
        task.command = CommandInfo(value: "sleep 60")
        try await fixture.master.handle(
            SchedulerCall(type: .accept, frameworkID: framework.id, accept: .init(offerIDs: [offer.id], operations: [.init(type: .launch, launch: .init(taskInfos: [task]))])),
            streamID: framework.streamID)

        let machine = MesosMachineID(hostname: "h1", ip: "127.0.0.1")
        try await fixture.master.updateMaintenanceSchedule(
            MaintenanceSchedule(windows: [.init(machineIDs: [machine], unavailability: Unavailability(start: TimeInfo(nanoseconds: 0)))]),
            field: "schedule")
        try await fixture.master.startMaintenance([machine], field: "start_maintenance.machines")
        let lost = try #require(try await Self.next(.update, on: framework).update?.status)
        #expect(lost.taskID == "t" && lost.state == .taskLost && lost.reason == .reasonAgentRemoved)
        #expect(try await Self.next(.failure, on: framework).failure?.agentID == agent)
        #expect(await fixture.master.freeResources().isEmpty)
        #expect(fixture.messenger.shutdowns == [framework.id])

        await #expect(throws: CapstanError.self) { try await fixture.registerAgent("cpus:1;mem:256", hostname: "h1") }
        // Another machine's agent still registers.
        _ = try await fixture.registerAgent("cpus:1;mem:256", hostname: "h2")
        try await fixture.master.stopMaintenance([machine], field: "stop_maintenance.machines")
        _ = try await fixture.registerAgent("cpus:1;mem:256", hostname: "h1")
        #expect(await fixture.master.freeResources().count == 2)
    }
}
