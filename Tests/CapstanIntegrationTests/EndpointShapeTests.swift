import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// The Mesos 1.0 JSON endpoints of a live master and agent against their Mesos 1.0 shapes
    /// (Tests/CapstanAPITests/Golden/endpoints), and their `jsonp` callbacks.
    @Suite("Mesos 1.0 JSON endpoints against their shapes")
    struct EndpointShapeTests {
        static func body(_ client: OperatorClient, _ path: String) async throws -> Data {
            let reply = try await client.get(path)
            #expect(reply.status == 200, "\(path): \(reply.status) \(reply.text)")
            return reply.body
        }

        @Test("The master's and agent's JSON endpoints match Mesos 1.0's shapes, and jsonp wraps them or refuses a hostile callback")
        func endpointsMatchMesosShapes() async throws {
            try await TestCluster.with { cluster in
                let master = OperatorClient(cluster.master)
                let agent = OperatorClient(cluster.agents[0].endpoint)
                let scheduler = try await EventRecorder.subscribe(cluster.master, name: "shapes")
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch([TestTasks.command("shaped", "sleep 60", agent: offer.agentID, cpus: 0.5, mem: 64)], on: [offer])
                try await scheduler.update("shaped", .taskRunning)
                let quota = #"{"type":"SET_QUOTA","set_quota":{"quota_request":{"role":"role1","force":true,"guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}}]}}}"#
                #expect(try await master.raw(path: "/api/v1", body: quota).status == 200)
                let weights = #"{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"role1","weight":2}]}}"#
                #expect(try await master.raw(path: "/api/v1", body: weights).status == 200)

                let check = LiveWireShapeTests.check
                let task = ["id", "name", "framework_id", "executor_id", "slave_id", "state", "resources.cpus", "resources.mem", "statuses[].state", "statuses[].timestamp"]
                func prefixed(_ prefix: String, _ paths: [String]) -> [String] { paths.map { prefix + $0 } }
                let slave = ["id", "pid", "hostname", "registered_time", "resources.cpus", "used_resources.cpus", "unreserved_resources.cpus", "attributes", "active", "version"]
                let framework = ["id", "name", "user", "role", "active", "hostname", "webui_url", "failover_timeout", "checkpoint", "registered_time", "used_resources.cpus", "offered_resources"]
                for prefix in ["", "/master"] {
                    try check(
                        try await Self.body(master, prefix + "/state"), "endpoints/master-state",
                        ["version", "build_date", "build_time", "build_user", "start_time", "elected_time", "id", "pid", "hostname", "leader",
                         "leader_info.id", "leader_info.pid", "leader_info.port", "activated_slaves", "deactivated_slaves", "flags.hostname"]
                            + prefixed("slaves[].", slave) + prefixed("frameworks[].", framework + ["tasks", "completed_tasks", "offers", "executors"])
                            + prefixed("frameworks[].tasks[].", task),
                        0.7)
                    try check(try await Self.body(master, prefix + "/slaves"), "endpoints/master-slaves", prefixed("slaves[].", slave), 0.75)
                    try check(
                        try await Self.body(master, prefix + "/frameworks"), "endpoints/master-frameworks",
                        prefixed("frameworks[].", framework) + prefixed("frameworks[].tasks[].", task), 0.7)
                    try check(try await Self.body(master, prefix + "/tasks"), "endpoints/master-tasks", prefixed("tasks[].", task + ["statuses[].container_status"]), 0.7)
                    try check(
                        try await Self.body(master, prefix + "/state-summary"), "endpoints/master-state-summary",
                        ["hostname", "cluster", "slaves[].TASK_RUNNING", "slaves[].framework_ids", "frameworks[].TASK_RUNNING", "frameworks[].slave_ids"]
                            + prefixed("slaves[].", slave) + ["frameworks[].id", "frameworks[].name", "frameworks[].used_resources.cpus"],
                        0.75)
                    try check(
                        try await Self.body(master, prefix + "/roles"), "endpoints/master-roles",
                        ["roles[].name", "roles[].weight", "roles[].frameworks", "roles[].resources.cpus"], 0.9)
                    try check(try await Self.body(master, prefix + "/flags"), "endpoints/master-flags", ["flags.hostname", "flags.work_dir"], 0.5)
                    try check(
                        try await Self.body(master, prefix + "/quota"), "endpoints/master-quota",
                        ["infos[].role", "infos[].guarantee[].name", "infos[].guarantee[].type", "infos[].guarantee[].scalar.value"], 0.8)
                    try check(try await Self.body(master, prefix + "/weights"), "endpoints/master-weights", ["[].role", "[].weight"], 1)
                }
                try check(
                    try await Self.body(master, "/metrics/snapshot"), "endpoints/master-metrics-snapshot",
                    ["master/elected", "master/tasks_running", "master/cpus_used", "master/slaves_active"], 1)

                let executor = ["id", "name", "source", "container", "directory", "resources.cpus", "tasks", "queued_tasks", "completed_tasks"]
                for path in ["/state", "/state.json", "/slave(1)/state"] {
                    try check(
                        try await Self.body(agent, path), "endpoints/agent-state",
                        ["version", "build_date", "build_time", "build_user", "start_time", "id", "pid", "hostname", "resources.cpus",
                         "attributes", "master_hostname", "flags.work_dir", "frameworks[].id", "frameworks[].name", "frameworks[].user",
                         "frameworks[].role", "frameworks[].checkpoint", "frameworks[].failover_timeout", "frameworks[].executors",
                         "frameworks[].completed_executors"]
                            + prefixed("frameworks[].executors[].", executor) + prefixed("frameworks[].executors[].tasks[].", task),
                        0.75)
                }
                for path in ["/flags", "/slave(1)/flags"] {
                    try check(try await Self.body(agent, path), "endpoints/agent-flags", ["flags.work_dir", "flags.resources", "flags.hostname"], 1)
                }
                // Usage is read from the container: poll until it has CPU and memory figures.
                let usage = ["[].executor_id", "[].executor_name", "[].framework_id", "[].source", "[].statistics.timestamp",
                             "[].statistics.cpus_user_time_secs", "[].statistics.cpus_system_time_secs", "[].statistics.cpus_limit",
                             "[].statistics.mem_rss_bytes", "[].statistics.mem_limit_bytes"]
                var statistics = Data()
                try await eventually("usage figures in /monitor/statistics", timeout: .seconds(30), interval: .milliseconds(200)) {
                    statistics = try await Self.body(agent, "/monitor/statistics")
                    let shape = try JSONShape(statistics)
                    return usage.allSatisfy { shape.types[$0] != nil }
                }
                try check(statistics, "endpoints/agent-monitor-statistics", usage, 0.5)
                let listed = try JSONSerialization.jsonObject(with: statistics) as? [[String: Any]]
                #expect(listed?.first?["executor_id"] as? String == "shaped")
                #expect(listed?.first?["framework_id"] as? String == scheduler.frameworkID.value)
                try check(
                    try await Self.body(agent, "/containers"), "endpoints/agent-containers",
                    ["[].container_id", "[].executor_id", "[].executor_name", "[].framework_id", "[].source", "[].statistics.timestamp",
                     "[].status.executor_pid"], 0.5)
                let containers = try JSONSerialization.jsonObject(with: try await Self.body(agent, "/slave(1)/containers")) as? [[String: Any]]
                #expect(containers?.first?["container_id"] is String)

                // jsonp: wrapped for a plain callback name, refused for anything that could break out of the call.
                for (client, path) in [(master, "/master/state-summary"), (master, "/tasks"), (agent, "/state"), (agent, "/flags")] {
                    let wrapped = try await client.get(path + "?jsonp=angular.callbacks._0")
                    #expect(wrapped.status == 200)
                    #expect(wrapped.text.hasPrefix("angular.callbacks._0({") && wrapped.text.hasSuffix("});"), "\(path)")
                    let hostile = try await client.get(path + "?jsonp=alert(document.domain)%3B//")
                    #expect(hostile.status == 400, "\(path): \(hostile.status)")
                    #expect(!hostile.text.contains("document.domain"), "\(hostile.text)")
                }
                await scheduler.disconnect()
            }
        }
    }
}
