import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// The agent's `disk/du` isolator through a real master, agent and scheduler.
    @Suite("Disk usage and quota")
    struct DiskQuotaTests {
        /// A command task with `disk` (MB) besides the usual cpus and mem.
        static func task(_ id: String, _ shell: String, agent: AgentID, disk: Double) -> TaskInfo {
            var task = TestTasks.command(id, shell, agent: agent)
            task.resources += Resources([.scalar("disk", disk)]).mesos
            return task
        }

        @Test("With --enforce-container-disk-quota a task writing 30 MB into a 10 MB sandbox fails with REASON_CONTAINER_LIMITATION_DISK; one under its limit runs, its usage in GET_CONTAINERS")
        func taskPastItsDiskIsKilledAndUsageIsReported() async throws {
            try await TestCluster().run { cluster in
                try await cluster.startMaster()
                let agent = try await cluster.startAgent(
                    extraArguments: ["--enforce-container-disk-quota", "--container-disk-watch-interval", "200ms"])
                let flags = try await OperatorClient(agent.endpoint).agentCall(.getFlags).getFlags?.flags ?? []
                let named = Dictionary(flags.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { a, _ in a })
                #expect(named["enforce_container_disk_quota"] == "true", "\(flags)")
                #expect(named["container_disk_watch_interval"] == "0.2secs", "\(flags)")
                #expect(named["isolation"]?.split(separator: ",").contains("disk/du") == true, "\(flags)")
                #expect(named["xfs_project_range"] == "[5000-10000]", "\(flags)")
                // The agent said at start whether its work dir could hold disk/xfs project quotas, and what is missing.
                let log = (try? String(contentsOfFile: agent.workDir + ".log", encoding: .utf8)) ?? ""
                #expect(log.contains("Project quotas (disk/xfs) on the work dir: "), "\(log.suffix(2000))")

                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                let hog = Self.task("hog", "head -c 31457280 /dev/zero > fill && exec sleep 60", agent: offer.agentID, disk: 10)
                let small = Self.task("small", "head -c 5242880 /dev/zero > fill && exec sleep 60", agent: offer.agentID, disk: 64)
                try await scheduler.launch([hog, small], on: [offer])

                let failed = try await scheduler.update("hog", .taskFailed, timeout: .seconds(30))
                #expect(failed.reason == .reasonContainerLimitationDisk, "\(failed)")
                #expect(failed.source == .sourceAgent, "\(failed)")
                #expect(failed.message?.contains("Disk usage (") == true, "\(failed)")
                #expect(failed.message?.contains("exceeds quota (10.0 MiB, 10485760 bytes)") == true, "the message names the limit: \(failed)")
                #expect(failed.limitation?.resources.map(\.name) == ["disk"], "\(failed)")

                _ = try await scheduler.update("small", .taskRunning, timeout: .seconds(30))
                try await eventually("GET_CONTAINERS reports the small task's 5 MB", timeout: .seconds(20), interval: .milliseconds(200)) {
                    let containers = try await OperatorClient(agent.endpoint).agentCall(.getContainers).getContainers?.containers ?? []
                    let stats = containers.first { $0.executorID?.value == "small" }?.resourceStatistics
                    return (stats?.diskUsedBytes ?? 0) >= 5 << 20 && stats?.diskLimitBytes == 64 << 20
                }
                let raw = try await OperatorClient(agent.endpoint).raw(path: "/api/v1", body: #"{"type":"GET_CONTAINERS"}"#)
                #expect(raw.text.contains("\"disk_used_bytes\"") && raw.text.contains("\"disk_limit_bytes\":\(64 << 20)"), "\(raw.text)")
                try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: "small", agentID: offer.agentID)))
                _ = try await scheduler.update("small", .taskKilled, timeout: .seconds(30))
                await scheduler.disconnect()
            }
        }

        @Test("A task from an image that writes 30 MB to its root filesystem (the overlay upper dir, not the sandbox) past disk:10 fails with REASON_CONTAINER_LIMITATION_DISK")
        func imageTaskWritingToItsRootfsIsKilled() async throws {
            try await ImageTaskTests.withImageAgent(
                "disk", agentArguments: ["--enforce-container-disk-quota", "--container-disk-watch-interval", "200ms"]
            ) { scheduler, offer, _ in
                var task = Self.task(
                    "rootfs-hog", "busybox dd if=/dev/zero of=/fill bs=1048576 count=30 && exec sleep 60", agent: offer.agentID, disk: 10)
                task.container = ImageTaskTests.busyboxContainer()
                try await scheduler.launch([task], on: [offer])
                let failed = try await scheduler.update("rootfs-hog", .taskFailed, timeout: .seconds(30))
                #expect(failed.reason == .reasonContainerLimitationDisk, "\(failed)")
                #expect(failed.message?.contains("exceeds quota (10.0 MiB, 10485760 bytes)") == true, "\(failed)")
            }
        }
    }
}
