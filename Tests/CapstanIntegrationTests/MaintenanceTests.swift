import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    @Suite("Maintenance: schedule, inverse offers, START and STOP")
    struct MaintenanceTests {
        /// POSTs an operator call given as JSON and checks it answered 200.
        static func operatorCall(_ cluster: TestCluster, _ json: String) async throws -> OperatorResponse? {
            let reply = try await OperatorClient(cluster.master).raw(path: "/api/v1", body: json)
            guard reply.status == 200 else { throw TestFailure("\(json) answered \(reply.status): \(reply.text)") }
            return reply.body.isEmpty ? nil : try MesosJSON.decode(OperatorResponse.self, from: reply.body)
        }

        static func maintenanceStatus(_ cluster: TestCluster) async throws -> MaintenanceClusterStatus {
            try #require(try await Self.operatorCall(cluster, #"{"type":"GET_MAINTENANCE_STATUS"}"#)?.getMaintenanceStatus?.status)
        }

        /// The scheduler's events from index `from` on.
        static func events(_ scheduler: EventRecorder, from: Int) async -> [SchedulerEvent] {
            Array(await scheduler.events.dropFirst(from))
        }

        @Test("A scheduled machine drains through inverse offers; START takes its agent down and STOP lets it back")
        func drainDownAndUp() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch([TestTasks.command("resident", "sleep 600", agent: offer.agentID)], on: [offer], refuseSeconds: 0.2)
                try await scheduler.update("resident", .taskRunning)

                let agentInfo = try #require(try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents.first?.agentInfo)
                let agentID = try #require(agentInfo.id)
                let hostname = agentInfo.hostname
                let machine = MesosMachineID(hostname: hostname, ip: cluster.agents[0].endpoint.host)
                let machineJSON = #"{"hostname":"\#(hostname)","ip":"\#(cluster.agents[0].endpoint.host)"}"#
                let start = Int64(Date().timeIntervalSince1970 + 3600) * 1_000_000_000
                let hour: Int64 = 3_600_000_000_000

                // Schedule the agent's machine: it is DRAINING.
                _ = try await Self.operatorCall(cluster, #"""
                    {"type":"UPDATE_MAINTENANCE_SCHEDULE","update_maintenance_schedule":{"schedule":{"windows":[
                      {"machine_ids":[\#(machineJSON)],"unavailability":{"start":{"nanoseconds":\#(start)},"duration":{"nanoseconds":\#(hour)}}}]}}}
                    """#)
                let schedule = try #require(try await Self.operatorCall(cluster, #"{"type":"GET_MAINTENANCE_SCHEDULE"}"#)?.getMaintenanceSchedule?.schedule)
                #expect(schedule.windows.first?.machineIDs == [machine])

                // The framework running a task there gets an inverse offer, and offers from the agent carry the
                // machine's unavailability.
                let inverseEvent = try await scheduler.any("INVERSE_OFFERS", timeout: .seconds(20)) { $0.type == .inverseOffers }
                let inverse = try #require(inverseEvent.inverseOffers?.inverseOffers.first)
                #expect(inverse.agentID == agentID)
                #expect(inverse.frameworkID == scheduler.frameworkID)
                #expect(inverse.unavailability.start.nanoseconds == start)
                #expect(inverse.unavailability.duration?.nanoseconds == hour)
                #expect(inverse.url?.address.port == Int32(cluster.agents[0].endpoint.port))
                let drainingOffer = try await scheduler.any("an offer with unavailability", timeout: .seconds(20)) { event in
                    event.type == .offers && event.offers?.offers.contains { $0.agentID == agentID && $0.unavailability?.start.nanoseconds == start } == true
                }
                #expect(drainingOffer.offers?.offers.first?.unavailability?.duration?.nanoseconds == hour)

                var status = try await Self.maintenanceStatus(cluster)
                #expect(status.drainingMachines.map(\.id) == [machine])
                #expect(status.drainingMachines.first?.statuses.first?.frameworkID == scheduler.frameworkID)
                #expect(status.drainingMachines.first?.statuses.first?.status == .unknown)

                // The framework accepts: GET_MAINTENANCE_STATUS (and the legacy /maintenance/status) shows it.
                try await scheduler.send(
                    SchedulerCall(
                        type: .acceptInverseOffers,
                        acceptInverseOffers: .init(inverseOfferIDs: [inverse.id], filters: Filters(refuseSeconds: 3600))))
                try await eventually("ACCEPT recorded") {
                    try await Self.maintenanceStatus(cluster).drainingMachines.first?.statuses.first?.status == .accept
                }
                status = try await Self.maintenanceStatus(cluster)
                let accepted = try #require(status.drainingMachines.first?.statuses.first)
                #expect(accepted.frameworkID == scheduler.frameworkID)
                #expect(abs(Double(accepted.timestamp.nanoseconds) / 1e9 - Date().timeIntervalSince1970) < 120)
                let legacy = try await OperatorClient(cluster.master).get("/maintenance/status")
                #expect(legacy.status == 200)
                #expect(try MesosJSON.decode(MaintenanceClusterStatus.self, from: legacy.body) == status)

                // START: the machine is DOWN, the agent is removed and its task reported lost.
                let beforeDown = await scheduler.events.count
                _ = try await Self.operatorCall(cluster, #"{"type":"START_MAINTENANCE","start_maintenance":{"machines":[\#(machineJSON)]}}"#)
                let lost = try await scheduler.update("resident", .taskLost, timeout: .seconds(20))
                #expect(lost.reason == .reasonAgentRemoved)
                #expect(lost.source == .sourceMaster)
                #expect(lost.agentID == agentID)
                _ = try await scheduler.any("FAILURE for the agent") { $0.type == .failure && $0.failure?.agentID == agentID }
                #expect(try await cluster.registeredAgentCount() == 0)
                status = try await Self.maintenanceStatus(cluster)
                #expect(status.downMachines == [machine])
                #expect(status.drainingMachines.isEmpty)
                // The agent was told to shut the framework down: the task's container goes.
                try await eventually("the agent killed the task", timeout: .seconds(20)) {
                    try await OperatorClient(cluster.agents[0].endpoint).agentCall(.getContainers).getContainers?.containers.isEmpty == true
                }
                // It keeps trying to register and is refused while its machine is DOWN.
                try await eventually("the master refused the agent's registration", timeout: .seconds(20)) {
                    cluster.masterProcess?.log.contains("Refusing the registration of an agent on a machine that is DOWN") == true
                }
                try await Task.sleep(for: .seconds(1))
                #expect(try await cluster.registeredAgentCount() == 0)
                #expect(await Self.events(scheduler, from: beforeDown).allSatisfy { event in
                    event.type != .offers || event.offers?.offers.allSatisfy { $0.agentID != agentID } == true
                })

                // STOP: the machine is UP again and out of the schedule; the agent registers and is offered again.
                let beforeUp = await scheduler.events.count
                _ = try await Self.operatorCall(cluster, #"{"type":"STOP_MAINTENANCE","stop_maintenance":{"machines":[\#(machineJSON)]}}"#)
                try await eventually("the agent registered again", timeout: .seconds(20)) { try await cluster.registeredAgentCount() == 1 }
                let after = try #require(try await Self.operatorCall(cluster, #"{"type":"GET_MAINTENANCE_SCHEDULE"}"#)?.getMaintenanceSchedule?.schedule)
                #expect(after.windows.isEmpty)
                #expect(try await Self.maintenanceStatus(cluster) == MaintenanceClusterStatus())
                try await eventually("an offer from the agent without unavailability", timeout: .seconds(20)) {
                    await Self.events(scheduler, from: beforeUp).contains { event in
                        event.type == .offers && event.offers?.offers.contains { $0.agentID == agentID && $0.unavailability == nil } == true
                    }
                }
                await scheduler.disconnect()
            }
        }

        @Test("Invalid maintenance calls are refused with the field path; the legacy endpoints apply the same rules")
        func invalidCallsNameTheField() async throws {
            try await TestCluster.with(agents: 0) { cluster in
                let client = OperatorClient(cluster.master)
                let twice = try await client.raw(path: "/api/v1", body: #"""
                    {"type":"UPDATE_MAINTENANCE_SCHEDULE","update_maintenance_schedule":{"schedule":{"windows":[
                      {"machine_ids":[{"hostname":"db-1"}],"unavailability":{"start":{"nanoseconds":1}}},
                      {"machine_ids":[{"hostname":"DB-1"}],"unavailability":{"start":{"nanoseconds":2}}}]}}}
                    """#)
                #expect(twice.status == 400)
                #expect(twice.text.contains("update_maintenance_schedule.schedule.windows[1].machine_ids[0]: machine 'DB-1' appears more than once"), "\(twice.text)")

                let unscheduled = try await client.raw(
                    path: "/api/v1", body: #"{"type":"START_MAINTENANCE","start_maintenance":{"machines":[{"ip":"10.0.0.9"}]}}"#)
                #expect(unscheduled.status == 400)
                #expect(unscheduled.text.contains("start_maintenance.machines[0]: machine '10.0.0.9' is not in the maintenance schedule"), "\(unscheduled.text)")

                // The legacy endpoints: a schedule as the body, machines as a list.
                let bad = try await client.raw(path: "/maintenance/schedule", body: #"{"windows":[{"machine_ids":[{"ip":"not-an-ip"}],"unavailability":{"start":{"nanoseconds":1}}}]}"#)
                #expect(bad.status == 400)
                #expect(bad.text.contains("windows[0].machine_ids[0].ip: 'not-an-ip' is not an IPv4 or IPv6 address"), "\(bad.text)")
                let good = try await client.raw(path: "/maintenance/schedule", body: #"{"windows":[{"machine_ids":[{"hostname":"db-1"}],"unavailability":{"start":{"nanoseconds":1}}}]}"#)
                #expect(good.status == 200, "\(good.text)")
                let notDown = try await client.raw(path: "/machine/up", body: #"[{"hostname":"db-1"}]"#)
                #expect(notDown.status == 400)
                #expect(notDown.text.contains("machines[0]: machine 'db-1' is DRAINING, not DOWN"), "\(notDown.text)")
                #expect(try await client.raw(path: "/machine/down", body: #"[{"hostname":"db-1"}]"#).status == 200)
                let removing = try await client.raw(path: "/master/maintenance/schedule", body: #"{}"#)
                #expect(removing.status == 400)
                #expect(removing.text.contains("windows: machine 'db-1' is DOWN and cannot be removed from the schedule"), "\(removing.text)")
                let down = try await client.get("/maintenance/status")
                #expect(try MesosJSON.decode(MaintenanceClusterStatus.self, from: down.body).downMachines == [MesosMachineID(hostname: "db-1")])
                #expect(try await client.raw(path: "/machine/up", body: #"[{"hostname":"db-1"}]"#).status == 200)
                let schedule = try await client.get("/maintenance/schedule")
                #expect(schedule.status == 200)
                #expect(try MesosJSON.decode(MaintenanceSchedule.self, from: schedule.body).windows.isEmpty)
            }
        }
    }
}
