import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// Reservations and persistent volumes driven by a v1 framework's ACCEPT operations, as Mesos' docs show them.
    @Suite("Persistent volumes and reservations through ACCEPT", Prerequisites.requires("persistent volume tests", [
        .root("the volume is bind-mounted into the task's mount namespace"),
    ]))
    struct PersistentVolumeTests {
        static let role = "db"

        static func reservedDisk(_ megabytes: Double) -> MesosResource {
            var disk = MesosResource.scalar("disk", megabytes, role: role)
            disk.reservation = .init(principal: "ops")
            return disk
        }

        static func volume(_ megabytes: Double, id: String = "store") -> MesosResource {
            var disk = reservedDisk(megabytes)
            disk.disk = .init(persistence: .init(id: id, principal: "ops"), volume: Volume(mode: .rw, containerPath: "data"))
            return disk
        }

        static func accept(_ offer: Offer, _ operations: [Offer.Operation]) -> SchedulerCall {
            SchedulerCall(type: .accept, accept: .init(offerIDs: [offer.id], operations: operations, filters: Filters(refuseSeconds: 0)))
        }

        static func task(_ id: String, _ shell: String, agent: AgentID, volume: MesosResource?) -> TaskInfo {
            var task = TestTasks.command(id, shell, agent: agent)
            task.resources = [MesosResource.scalar("cpus", 0.1, role: "*"), MesosResource.scalar("mem", 32, role: "*")] + (volume.map { [$0] } ?? [])
            return task
        }

        /// The next offer whose resources hold a resource matching `predicate`; offers before it are declined, so that
        /// what they hold comes back in later offers.
        static func offer(_ scheduler: EventRecorder, _ what: String, where predicate: @escaping @Sendable (MesosResource) -> Bool) async throws -> Offer {
            let deadline = ContinuousClock.now + .seconds(15)
            while ContinuousClock.now < deadline {
                let offers = try await scheduler.nextOffers(timeout: deadline - ContinuousClock.now)
                if let wanted = offers.first(where: { $0.resources.contains(where: predicate) }) {
                    let others = offers.filter { $0.id != wanted.id }.map(\.id)
                    if !others.isEmpty { try await scheduler.send(SchedulerCall(type: .decline, decline: .init(offerIDs: others, filters: Filters(refuseSeconds: 0)))) }
                    return wanted
                }
                try await scheduler.send(SchedulerCall(type: .decline, decline: .init(offerIDs: offers.map(\.id), filters: Filters(refuseSeconds: 0))))
            }
            throw TestFailure("no offer with \(what) within 15 s")
        }

        @Test("RESERVE + CREATE + LAUNCH in one ACCEPT: the task's data outlives it, the next task on the volume reads it, the volume comes back in offers; DESTROY is refused while a task uses it and deletes the data after; UNRESERVE gives the disk back")
        func volumeLifecycle() async throws {
            try await TestCluster().run { cluster in
                try await cluster.startMaster()
                let agent = try await cluster.startAgent()
                let scheduler = try await EventRecorder.subscribe(cluster.master, role: Self.role)
                let first = try #require(try await scheduler.nextOffers().first)
                let agentID = first.agentID
                let writer = Self.task("writer", "echo kept > data/hello", agent: agentID, volume: Self.volume(64))
                try await scheduler.send(Self.accept(first, [
                    .init(type: .reserve, reserve: .init(resources: [Self.reservedDisk(64)])),
                    .init(type: .create, create: .init(volumes: [Self.volume(64)])),
                    .launch([writer]),
                ]))
                try await scheduler.update("writer", .taskFinished, timeout: .seconds(20))
                let data = agent.workDir + "/volumes/roles/\(Self.role)/store"
                #expect((try? String(contentsOfFile: data + "/hello", encoding: .utf8)) == "kept\n", "the data outlives the task")

                // The volume is offered again, with its reservation and persistence, to the role.
                var offer = try await Self.offer(scheduler, "an offer with the volume") { $0.disk?.persistence?.id == "store" }
                let offered = try #require(offer.resources.first { $0.disk?.persistence?.id == "store" })
                #expect(offered.role == Self.role && offered.reservation?.principal == "ops" && offered.scalar?.value == 64)
                #expect(offered.disk?.volume?.containerPath == "data")
                let agents = try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents ?? []
                #expect(agents.first?.totalResources.contains { $0.disk?.persistence?.id == "store" } == true, "GET_AGENTS lists the volume")

                // A task that holds the volume: DESTROY on the rest of the offer is refused, the data stays.
                let holder = Self.task("holder", "grep -q kept data/hello && sleep 300", agent: agentID, volume: Self.volume(64))
                try await scheduler.send(Self.accept(offer, [.launch([holder])]))
                try await scheduler.update("holder", .taskRunning, timeout: .seconds(20))
                offer = try await Self.offer(scheduler, "an offer while the volume is in use") { $0.name == "cpus" }
                try await scheduler.send(Self.accept(offer, [.init(type: .destroy, destroy: .init(volumes: [Self.volume(64)]))]))
                try await Task.sleep(for: .milliseconds(500))
                #expect(FileManager.default.fileExists(atPath: data + "/hello"), "a volume in use is not destroyed")

                try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: "holder")))
                try await scheduler.update("holder", .taskKilled, timeout: .seconds(20))
                offer = try await Self.offer(scheduler, "the volume offered again") { $0.disk?.persistence?.id == "store" }
                try await scheduler.send(Self.accept(offer, [.init(type: .destroy, destroy: .init(volumes: [Self.volume(64)]))]))
                try await eventually("DESTROY deleted the data", timeout: .seconds(10)) { !FileManager.default.fileExists(atPath: data) }
                offer = try await Self.offer(scheduler, "the reserved disk without a volume") { $0.reservation != nil && $0.disk == nil }
                try await scheduler.send(Self.accept(offer, [.init(type: .unreserve, unreserve: .init(resources: [Self.reservedDisk(64)]))]))
                try await eventually("no reservation is left on the agent", timeout: .seconds(10)) {
                    let agents = try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents ?? []
                    let total = agents.first?.totalResources ?? []
                    return !total.contains { $0.reservation != nil } && total.contains { $0.name == "disk" && $0.scalar?.value == 1024 }
                }
                await scheduler.disconnect()
            }
        }

        @Test("The operator API reserves, creates, destroys and unreserves on an agent's unallocated resources; a broken rule is refused naming it")
        func operatorCalls() async throws {
            try await TestCluster().run { cluster in
                try await cluster.startMaster()
                let agent = try await cluster.startAgent()
                try await eventually("agent registered") { try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents.count == 1 }
                let agentID = try #require(try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents.first?.agentInfo.id?.value)
                let client = OperatorClient(cluster.master)
                let reserved = #"{"name":"disk","type":"SCALAR","scalar":{"value":128},"role":"db","reservation":{"principal":"ops"}}"#
                let volume = #"{"name":"disk","type":"SCALAR","scalar":{"value":128},"role":"db","reservation":{"principal":"ops"},"disk":{"persistence":{"id":"logs","principal":"ops"},"volume":{"container_path":"logs","mode":"RW"}}}"#
                func call(_ type: String, _ field: String, _ key: String, _ resource: String) async throws -> JSONPoster.Reply {
                    try await client.raw(path: "/api/v1", body: #"{"type":"\#(type)","\#(field)":{"agent_id":{"value":"\#(agentID)"},"\#(key)":[\#(resource)]}}"#)
                }
                func total() async throws -> [MesosResource] {
                    try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents.first?.totalResources ?? []
                }
                #expect(try await call("RESERVE_RESOURCES", "reserve_resources", "resources", reserved).status == 202)
                #expect(try await total().contains { $0.reservation?.principal == "ops" && $0.scalar?.value == 128 })
                #expect(try await call("CREATE_VOLUMES", "create_volumes", "volumes", volume).status == 202)
                let data = agent.workDir + "/volumes/roles/db/logs"
                try await eventually("the agent made the volume's directory") { FileManager.default.fileExists(atPath: data) }
                // The agent checkpointed its volume: restarted (SIGKILL), it registers with it again and keeps the data.
                try "kept\n".write(toFile: data + "/file", atomically: true, encoding: .utf8)
                agent.process.crash()
                let listenFile = ListenFile.path(in: cluster.scratch, name: "agent-restart")
                let restarted = try CapstanProcess(arguments: agent.restartArguments(listenFile: listenFile), logPath: agent.workDir + ".restart.log")
                defer { restarted.crash() }
                try await eventually("the restarted agent registered with its volume", timeout: .seconds(20)) { [restarted] in
                    guard restarted.log.contains("Registered with master") else { return false }
                    return try await total().contains { $0.disk?.persistence?.id == "logs" }
                }
                #expect((try? String(contentsOfFile: data + "/file", encoding: .utf8)) == "kept\n")
                let again = try await call("CREATE_VOLUMES", "create_volumes", "volumes", volume)
                #expect(again.status == 409 && again.text.contains("volume 'logs' of role 'db' already exists on this agent"), "\(again.status) \(again.text)")
                let early = try await call("UNRESERVE_RESOURCES", "unreserve_resources", "resources", reserved)
                #expect(early.status >= 400 && early.text.contains("is not among the resources at hand"), "the volume holds the reservation: \(early.text)")
                #expect(try await call("DESTROY_VOLUMES", "destroy_volumes", "volumes", volume).status == 202)
                try await eventually("DESTROY deleted the data") { !FileManager.default.fileExists(atPath: data) }
                #expect(try await call("UNRESERVE_RESOURCES", "unreserve_resources", "resources", reserved).status == 202)
                #expect(try await !total().contains { $0.reservation != nil })
            }
        }
    }
}
