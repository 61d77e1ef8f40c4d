import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// GET_METRICS, GET/SET_LOGGING_LEVEL, UPDATE_WEIGHTS and quota through a real `capstan master` and agent.
    @Suite("Operator calls: metrics, logging level, weights and quota")
    struct OperatorCallsTests {
        static func post(_ client: OperatorClient, _ body: String) async throws -> JSONPoster.Reply {
            try await client.raw(path: "/api/v1", body: body)
        }

        @Test("GET_METRICS on master and agent lists /metrics/snapshot's gauges; SET_LOGGING_LEVEL lasts its duration on each")
        func metricsAndLoggingLevel() async throws {
            try await TestCluster.with { cluster in
                let master = OperatorClient(cluster.master)
                let agent = OperatorClient(cluster.agents[0].endpoint)
                for (client, prefix) in [(master, "master/"), (agent, "slave/")] {
                    let reply = try await Self.post(client, #"{"type":"GET_METRICS","get_metrics":{"timeout":{"nanoseconds":1000000000}}}"#)
                    #expect(reply.status == 200, "\(reply.text)")
                    let metrics = try MesosJSON.decode(OperatorResponse.self, from: reply.body).getMetrics?.metrics ?? []
                    let snapshot = try JSONSerialization.jsonObject(with: try await client.get("/metrics/snapshot").body) as? [String: Double]
                    #expect(!metrics.isEmpty && Set(metrics.map(\.name)) == Set((snapshot ?? [:]).keys), "\(metrics.map(\.name))")
                    #expect(metrics.allSatisfy { $0.name.hasPrefix(prefix) })
                    #expect(metrics.first { $0.name == prefix + "cpus_total" }?.value == 2)
                }
                #expect(try await agent.agentCall(.getMetrics).getMetrics?.metrics.first { $0.name == "slave/registered" }?.value == 1)

                for client in [master, agent] {
                    func level() async throws -> UInt32? {
                        try MesosJSON.decode(OperatorResponse.self, from: try await Self.post(client, #"{"type":"GET_LOGGING_LEVEL"}"#).body)
                            .getLoggingLevel?.level
                    }
                    // The test cluster runs with --log-level debug: verbosity 1.
                    let initial = try await level()
                    #expect(initial == 1)
                    let set = try await Self.post(client, #"{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":2,"duration":{"nanoseconds":2000000000}}}"#)
                    #expect(set.status == 200, "\(set.text)")
                    #expect(try await level() == 2)
                    try await eventually("the logging level reverts after its duration", timeout: .seconds(30), interval: .milliseconds(200)) {
                        try await level() == initial
                    }
                    let bad = try await Self.post(client, #"{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":1,"duration":{"nanoseconds":0}}}"#)
                    #expect(bad.status == 400 && bad.text.contains("set_logging_level.duration.nanoseconds must be > 0"), "\(bad.text)")
                }
                // A long SET stays in force.
                #expect(try await Self.post(master, #"{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":2,"duration":{"nanoseconds":60000000000}}}"#).status == 200)
                #expect(try await Self.post(master, #"{"type":"GET_LOGGING_LEVEL"}"#).text.contains(#""level":2"#))
            }
        }

        @Test("UPDATE_WEIGHTS shows in GET_WEIGHTS, GET_ROLES and /roles; unmet quota is kept from other roles and offered to its own")
        func weightsAndQuota() async throws {
            try await TestCluster.with { cluster in
                let master = OperatorClient(cluster.master)
                let weights = #"{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"analytics","weight":3}]}}"#
                #expect(try await Self.post(master, weights).status == 200)
                #expect(try await master.call(.getWeights).getWeights?.weightInfos == [WeightInfo(weight: 3, role: "analytics")])
                #expect(try await master.call(.getRoles).getRoles?.roles.first { $0.name == "analytics" }?.weight == 3)
                let roles = try JSONSerialization.jsonObject(with: try await master.get("/master/roles").body) as? [String: Any]
                let analytics = (roles?["roles"] as? [[String: Any]])?.first { $0["name"] as? String == "analytics" }
                #expect(analytics?["weight"] as? Double == 3)

                // 1.5 of the agent's 2 CPUs are guaranteed to "analytics", which has no framework yet.
                let quota = #"{"type":"SET_QUOTA","set_quota":{"quota_request":{"role":"analytics","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1.5}}]}}}"#
                let set = try await Self.post(master, quota)
                #expect(set.status == 200, "\(set.text)")
                let status = try MesosJSON.decode(OperatorResponse.self, from: try await Self.post(master, #"{"type":"GET_QUOTA"}"#).body)
                #expect(status.getQuota?.status.infos.map(\.role) == ["analytics"])
                let tooMuch = #"{"type":"SET_QUOTA","set_quota":{"quota_request":{"role":"batch","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}]}}}"#
                let refused = try await Self.post(master, tooMuch)
                #expect(refused.status == 400 && refused.text.contains("set_quota.quota_request.guarantee[0].scalar.value must be >= 0"), "\(refused.text)")

                let other = try await EventRecorder.subscribe(cluster.master, name: "other")
                let offered = try await other.nextOffers().map { try Resources(mesos: $0.resources) }.reduce(Resources(), +)
                #expect(offered.cpus == 0.5, "offered \(offered) while 1.5 CPUs are guaranteed to analytics")
                #expect(offered.mem == 1024)

                let owner = try await EventRecorder.subscribe(cluster.master, name: "owner", role: "analytics")
                let guaranteed = try await owner.nextOffers().map { try Resources(mesos: $0.resources) }.reduce(Resources(), +)
                #expect(guaranteed.cpus == 1.5, "offered \(guaranteed) to the role with quota")

                #expect(try await Self.post(master, #"{"type":"REMOVE_QUOTA","remove_quota":{"role":"analytics"}}"#).status == 200)
                let empty = try MesosJSON.decode(OperatorResponse.self, from: try await Self.post(master, #"{"type":"GET_QUOTA"}"#).body)
                #expect(empty.getQuota?.status.infos.isEmpty != false)
                await other.disconnect()
                await owner.disconnect()
            }
        }
    }
}
