import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// What the operator set (weights, quota, maintenance) and what agents reserved outlives a master SIGKILL on SQLite.
    @Suite("Master registry: operator settings, reservations and volumes")
    struct MasterRegistrySettingsTests {
        /// POSTs an operator call given as JSON; it must answer 200 (or 202).
        static func call(_ cluster: TestCluster, _ json: String) async throws -> OperatorResponse? {
            let reply = try await OperatorClient(cluster.master).raw(path: "/api/v1", body: json)
            guard reply.status == 200 || reply.status == 202 else { throw TestFailure("\(json) answered \(reply.status): \(reply.text)") }
            return reply.body.isEmpty ? nil : try MesosJSON.decode(OperatorResponse.self, from: reply.body)
        }

        /// GET_WEIGHTS, GET_QUOTA, GET_MAINTENANCE_SCHEDULE and GET_MAINTENANCE_STATUS, as answered.
        static func settings(_ cluster: TestCluster) async throws -> [OperatorResponse?] {
            var answers: [OperatorResponse?] = []
            for type in ["GET_WEIGHTS", "GET_QUOTA", "GET_MAINTENANCE_SCHEDULE", "GET_MAINTENANCE_STATUS"] {
                answers.append(try await call(cluster, #"{"type":"\#(type)"}"#))
            }
            return answers
        }

        @Test("Weights, quota, the maintenance schedule and a DOWN machine survive a master SIGKILL: the same answers after the restart, and the DOWN machine's agent is still refused")
        func operatorSettingsSurviveAMasterCrash() async throws {
            try await TestCluster().run { cluster in
                try await cluster.startMaster()
                // The agent that goes DOWN listens on its own loopback address, so its machine is its own.
                let doomed = try await cluster.startAgent(listenHost: "127.0.0.2")
                let hostname = try #require(try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents.first?.agentInfo.hostname)
                let start = Int64(Date().timeIntervalSince1970 + 3600) * 1_000_000_000
                _ = try await Self.call(cluster, #"{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"web","weight":2.5},{"role":"batch","weight":0.5}]}}"#)
                _ = try await Self.call(cluster, #"""
                    {"type":"SET_QUOTA","set_quota":{"quota_request":{"role":"db","force":true,
                      "guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1.5}},{"name":"mem","type":"SCALAR","scalar":{"value":256}}]}}}
                    """#)
                _ = try await Self.call(cluster, #"""
                    {"type":"UPDATE_MAINTENANCE_SCHEDULE","update_maintenance_schedule":{"schedule":{"windows":[
                      {"machine_ids":[{"hostname":"\#(hostname)","ip":"127.0.0.2"}],"unavailability":{"start":{"nanoseconds":\#(start)}}},
                      {"machine_ids":[{"hostname":"later.example","ip":"10.0.0.9"}],"unavailability":{"start":{"nanoseconds":\#(start)},"duration":{"nanoseconds":3600000000000}}}]}}}
                    """#)
                _ = try await Self.call(cluster, #"{"type":"START_MAINTENANCE","start_maintenance":{"machines":[{"hostname":"\#(hostname)","ip":"127.0.0.2"}]}}"#)
                try await eventually("the DOWN machine's agent was removed") { try await cluster.registeredAgentCount() == 0 }
                let before = try await Self.settings(cluster)
                #expect(before[0]?.getWeights?.weightInfos.count == 2)
                #expect(before[1]?.getQuota?.status.infos.first?.role == "db")
                #expect(before[2]?.getMaintenanceSchedule?.schedule.windows.count == 2)
                #expect(before[3]?.getMaintenanceStatus?.status.downMachines == [MesosMachineID(hostname: hostname, ip: "127.0.0.2")])
                #expect(before[3]?.getMaintenanceStatus?.status.drainingMachines.map(\.id) == [MesosMachineID(hostname: "later.example", ip: "10.0.0.9")])

                cluster.masterProcess?.crash()
                doomed.process.crash()
                try await cluster.startMaster()
                let after = try await Self.settings(cluster)
                #expect(after == before, "before: \(before)\nafter: \(after)")
                try await eventually("the restarted master logs what it recovered") {
                    (cluster.masterProcess?.log ?? "").contains("Recovered the operator's settings from the registry")
                }

                // An agent on the DOWN machine is refused by the restarted master; one elsewhere registers.
                let listenFile = ListenFile.path(in: cluster.scratch, name: "refused")
                let refused = try CapstanProcess(
                    arguments: doomed.restartArguments(listenFile: listenFile), logPath: doomed.workDir + ".after-restart.log")
                defer { refused.crash() }
                try await eventually("the master refused the agent of the DOWN machine", timeout: .seconds(20)) {
                    (cluster.masterProcess?.log ?? "").contains("Refusing the registration of an agent on a machine that is DOWN")
                }
                #expect(try await cluster.registeredAgentCount() == 0)
                try await cluster.startAgent(resources: "cpus:1;mem:256;disk:256;ports:[31100-31109]")
                #expect(try await cluster.registeredAgentCount() == 1)

                // STOP_MAINTENANCE is durable too: after another crash the machine is UP and its window gone.
                _ = try await Self.call(cluster, #"{"type":"STOP_MAINTENANCE","stop_maintenance":{"machines":[{"hostname":"\#(hostname)","ip":"127.0.0.2"}]}}"#)
                _ = try await Self.call(cluster, #"{"type":"REMOVE_QUOTA","remove_quota":{"role":"db"}}"#)
                cluster.masterProcess?.crash()
                try await cluster.startMaster()
                let third = try await Self.settings(cluster)
                #expect(third[0] == before[0])
                #expect(third[1]?.getQuota?.status.infos.isEmpty != false, "\(String(describing: third[1]))")
                #expect(third[2]?.getMaintenanceSchedule?.schedule.windows.count == 1)
                #expect(third[3]?.getMaintenanceStatus?.status.downMachines.isEmpty == true)
            }
        }

        @Test("A dynamic reservation and a persistent volume made through the operator API are back in the master's state and offers after a master SIGKILL, once the agent re-registers")
        func reservationsAndVolumesSurviveAMasterCrash() async throws {
            try await TestCluster().run { cluster in
                try await cluster.startMaster()
                let agent = try await cluster.startAgent()
                let agentID = try #require(try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents.first?.agentInfo.id?.value)
                let reserved = #"{"name":"disk","type":"SCALAR","scalar":{"value":128},"role":"db","reservation":{"principal":"ops"}}"#
                let cpus = #"{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"db","reservation":{"principal":"ops"}}"#
                let volume = #"{"name":"disk","type":"SCALAR","scalar":{"value":128},"role":"db","reservation":{"principal":"ops"},"disk":{"persistence":{"id":"logs","principal":"ops"},"volume":{"container_path":"logs","mode":"RW"}}}"#
                _ = try await Self.call(cluster, #"{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":"\#(agentID)"},"resources":[\#(reserved),\#(cpus)]}}"#)
                _ = try await Self.call(cluster, #"{"type":"CREATE_VOLUMES","create_volumes":{"agent_id":{"value":"\#(agentID)"},"volumes":[\#(volume)]}}"#)
                // The agent checkpointed them (the master answered before it told the agent).
                try await eventually("the agent checkpointed the volume") {
                    let checkpoint = (try? String(contentsOfFile: agent.workDir + "/meta/resources.json", encoding: .utf8)) ?? ""
                    return checkpoint.contains("\"logs\"") && checkpoint.contains("cpus")
                }

                cluster.masterProcess?.crash()
                try await cluster.startMaster()
                try await eventually("the agent re-registered with the restarted master", timeout: .seconds(20)) {
                    try await cluster.registeredAgentCount() == 1
                }
                let total = try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents.first?.totalResources ?? []
                #expect(total.contains { $0.disk?.persistence?.id == "logs" && $0.role == "db" && $0.scalar?.value == 128 }, "\(total)")
                #expect(total.contains { $0.name == "cpus" && $0.role == "db" && $0.reservation?.principal == "ops" && $0.scalar?.value == 1 }, "\(total)")

                // A framework of the role is offered them, the volume whole with its persistence.
                let scheduler = try await EventRecorder.subscribe(cluster.master, role: "db")
                let offer = try #require(try await scheduler.nextOffers(timeout: .seconds(10)).first)
                #expect(offer.resources.contains { $0.disk?.persistence?.id == "logs" && $0.disk?.volume?.containerPath == "logs" }, "\(offer.resources)")
                #expect(offer.resources.contains { $0.name == "cpus" && $0.role == "db" && $0.scalar?.value == 1 }, "\(offer.resources)")
                await scheduler.disconnect()
            }
        }
    }

    /// The operator's settings in etcd: written by the leader in its fenced transaction, restored by the next leader.
    @Suite("Master registry on etcd: operator settings", Prerequisites.requires("master HA against a real etcd", EtcdServer.prerequisite))
    struct EtcdRegistrySettingsTests {
        @Test("Weights, quota and the maintenance schedule set on the leader are what the new leader answers after the leader's SIGKILL")
        func settingsFollowTheLeader() async throws {
            try await MasterHATests.with { cluster in
                for _ in 0..<2 { try await cluster.startMaster() }
                let leader = try await cluster.electedLeader(within: .seconds(30))
                let calls = [
                    #"{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"web","weight":3}]}}"#,
                    #"{"type":"SET_QUOTA","set_quota":{"quota_request":{"role":"db","force":true,"guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":2}}]}}}"#,
                    #"{"type":"UPDATE_MAINTENANCE_SCHEDULE","update_maintenance_schedule":{"schedule":{"windows":[{"machine_ids":[{"hostname":"h1.example"}],"unavailability":{"start":{"nanoseconds":1}}}]}}}"#,
                ]
                for call in calls {
                    let reply = try await OperatorClient(leader).raw(path: "/api/v1", body: call)
                    #expect(reply.status == 200, "\(call): \(reply.status) \(reply.text)")
                }
                #expect(try await cluster.etcd.keys(under: "/capstan/registry/quotas/").keys.sorted() == ["/capstan/registry/quotas/db"])
                #expect(try await cluster.etcd.keys(under: "/capstan/registry/weights/").keys.sorted() == ["/capstan/registry/weights/web"])
                func answers(_ master: HostPort) async throws -> [OperatorResponse] {
                    var all: [OperatorResponse] = []
                    for type in [OperatorCall.Kind.getWeights, .getQuota, .getMaintenanceSchedule] { all.append(try await OperatorClient(master).call(type)) }
                    return all
                }
                let before = try await answers(leader)
                #expect(before[1].getQuota?.status.infos.first?.role == "db")

                try #require(cluster.process(at: leader)).crash()
                let next = try await cluster.electedLeader(within: .seconds(MasterHATests.ttl + 15))
                #expect(next != leader)
                let after = try await answers(next)
                #expect(after == before, "before: \(before)\nafter: \(after)")
            }
        }
    }
}
