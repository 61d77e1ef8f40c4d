import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// Command tasks and custom executors (no image) go through the agent's cgroup isolators as tasks from images do.
    @Suite("Isolation of command tasks and executors")
    struct CommandTaskIsolationTests {
        /// The controllers every container gets a cgroup of.
        static let controllers = ["cpu", "memory", "pids"]

        static var prerequisitesMissing: String? {
            if geteuid() != 0 { return "not root" }
            for controller in controllers where cgroupRoot(controller) == nil { return "no \(controller) cgroup hierarchy" }
            return nil
        }

        /// A controller's hierarchy: cgroup v1's `/sys/fs/cgroup/<controller>`, else the v2 hierarchy where it is enabled.
        static func cgroupRoot(_ controller: String) -> String? {
            let v1 = "/sys/fs/cgroup/\(controller)"
            if FileManager.default.fileExists(atPath: v1 + "/cgroup.procs") { return v1 }
            let enabled = (try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8)) ?? ""
            return enabled.split(whereSeparator: \.isWhitespace).contains(Substring(controller)) ? "/sys/fs/cgroup" : nil
        }

        /// The container's cgroup in a controller's hierarchy.
        static func cgroup(_ controller: String, of containerID: ContainerID) throws -> String {
            let root = try #require(cgroupRoot(controller), "no \(controller) hierarchy")
            return root + "/capstan/\(containerID.value)"
        }

        static func read(_ path: String) -> String {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// `key value` lines (cpu.stat) as a dictionary.
        static func keyed(_ path: String) -> [String: UInt64] {
            var values: [String: UInt64] = [:]
            for line in read(path).split(separator: "\n") {
                let parts = line.split(separator: " ")
                if parts.count == 2, let value = UInt64(parts[1]) { values[String(parts[0])] = value }
            }
            return values
        }

        /// Skips (or fails under CAPSTAN_TEST_STRICT=1) without root and cgroups; otherwise starts a master and an agent,
        /// subscribes a scheduler and hands it the first offer and the agent's endpoint.
        static func withAgent(
            agentArguments: [String] = [], _ body: (_ scheduler: EventRecorder, _ offer: Offer, _ agent: HostPort) async throws -> Void
        ) async throws {
            if let missing = prerequisitesMissing {
                if ProcessInfo.processInfo.environment["CAPSTAN_TEST_STRICT"] == "1" { Issue.record("prerequisite missing: \(missing)") }
                print("SKIPPED: cgroup isolation needs root and the cpu, memory and pids controllers: \(missing)")
                return
            }
            try await TestCluster().run { cluster in
                try await cluster.startMaster()
                let agent = try await cluster.startAgent(extraArguments: agentArguments)
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await body(scheduler, offer, agent.endpoint)
                await scheduler.disconnect()
            }
        }

        /// The container of executor `executorID` (a command task's executor ID is its task ID), from GET_CONTAINERS.
        static func container(of executorID: String, agent: HostPort) async throws -> AgentOperatorResponse.GetContainers.Container? {
            let containers = try await OperatorClient(agent).agentCall(.getContainers).getContainers?.containers ?? []
            return containers.first { $0.executorID?.value == executorID }
        }

        @Test("A command task declared with 32 MiB that allocates 300 MB ends TASK_FAILED with REASON_CONTAINER_LIMITATION_MEMORY")
        func memoryHogCommandTaskIsOOMKilled() async throws {
            try await Self.withAgent { scheduler, offer, agent in
                // GET_FLAGS names the isolators every container gets (devices/cdi: a root agent applies the CDI devices a
                // task or its image asks for, and fails the launch of one asking for a device it does not have).
                let flags = try await OperatorClient(agent).agentCall(.getFlags).getFlags?.flags ?? []
                #expect(
                    flags.first { $0.name == "isolation" }?.value == "cgroups/cpu,cgroups/mem,cgroups/pids,volume/path,disk/du,devices/cdi", "\(flags)")
                #expect(flags.first { $0.name == "isolation_unavailable" }?.value == "none", "\(flags)")

                // `b'x' * n` writes every byte, so the pages are really used (a bytearray may stay untouched zero pages).
                let task = TestTasks.command(
                    "hog", "exec python3 -c \"b = b'x' * (300 << 20); import time; time.sleep(60)\"", agent: offer.agentID,
                    cpus: 0.5, mem: 32)
                try await scheduler.launch([task], on: [offer])
                let failed = try await scheduler.update("hog", .taskFailed, timeout: .seconds(30))
                #expect(failed.reason == .reasonContainerLimitationMemory, "\(failed)")
                #expect(failed.source == .sourceAgent, "\(failed)")
                #expect(failed.message?.contains("Memory limit exceeded") == true, "\(failed)")
                #expect(failed.message?.contains("32 MiB") == true, "the message names the limit: \(failed)")
                #expect(failed.limitation?.resources.map(\.name) == ["mem"], "\(failed)")
            }
        }

        @Test("A custom executor over its memory fails its tasks with REASON_CONTAINER_LIMITATION_MEMORY")
        func memoryHogExecutorFailsItsTasksWithTheMemoryLimitation() async throws {
            try await Self.withAgent { scheduler, offer, _ in
                var task = ExecutorAPITests.executorTask("queued", "sleep 60", agent: offer.agentID, executor: "hog-executor")
                task.executor?.command = CommandInfo(value: "exec python3 -c \"b = b'x' * (300 << 20); import time; time.sleep(60)\"")
                try await scheduler.launch([task], on: [offer])
                let failed = try await scheduler.update("queued", .taskFailed, timeout: .seconds(30))
                #expect(failed.reason == .reasonContainerLimitationMemory, "\(failed)")
                #expect(failed.source == .sourceAgent, "\(failed)")
                #expect(failed.message?.contains("Memory limit exceeded") == true, "\(failed)")
            }
        }

        @Test("A CPU-bound command task at 0.25 cpus is throttled by its CFS quota")
        func cpuBoundCommandTaskIsThrottled() async throws {
            try await Self.withAgent { scheduler, offer, agent in
                let task = TestTasks.command("spin", "while :; do :; done", agent: offer.agentID, cpus: 0.25, mem: 32)
                try await scheduler.launch([task], on: [offer])
                _ = try await scheduler.update("spin", .taskRunning, timeout: .seconds(30))
                let containerID = try #require(try await Self.container(of: "spin", agent: agent)?.containerID)
                let cpu = try Self.cgroup("cpu", of: containerID)
                if FileManager.default.fileExists(atPath: cpu + "/cpu.cfs_quota_us") {
                    #expect(Self.read(cpu + "/cpu.cfs_quota_us") == "25000", "a quarter of the 100 ms period")
                } else {
                    #expect(Self.read(cpu + "/cpu.max") == "25000 100000")
                }
                let first = try #require(try await Self.container(of: "spin", agent: agent)?.resourceStatistics)
                let start = ContinuousClock.now
                // Only a task that wants more than its quota is throttled; a spinning shell does, however loaded the machine.
                try await eventually("the CFS quota throttled the task", timeout: .seconds(20), interval: .milliseconds(200)) {
                    (Self.keyed(cpu + "/cpu.stat")["nr_throttled"] ?? 0) > 0
                }
                try await Task.sleep(for: .seconds(2))
                let second = try #require(try await Self.container(of: "spin", agent: agent)?.resourceStatistics)
                let wall = (ContinuousClock.now - start).seconds
                let used = ((second.cpusUserTimeSecs ?? 0) + (second.cpusSystemTimeSecs ?? 0))
                    - ((first.cpusUserTimeSecs ?? 0) + (first.cpusSystemTimeSecs ?? 0))
                // The quota caps usage at 0.25 cpus (plus tick accounting); a loaded machine may give it less, never more.
                #expect(used < 0.25 * wall * 1.5 + 0.1, "cpu time \(used) s over \(wall) s at 0.25 cpus")
                #expect((second.cpusNrThrottled ?? 0) > 0, "GET_CONTAINERS reports the throttling: \(second)")
                try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: "spin", agentID: offer.agentID)))
                _ = try await scheduler.update("spin", .taskKilled, timeout: .seconds(30))
                try await eventually("the task's cpu cgroup is removed") { !FileManager.default.fileExists(atPath: cpu) }
            }
        }

        @Test("A fork bomb in a command task stops at the pids limit, the agent stays responsive, and the kill cleans it up")
        func forkBombCommandTaskStopsAtThePidsLimit() async throws {
            try await Self.withAgent(agentArguments: ["--container-pids-max", "48"]) { scheduler, offer, agent in
                // Forks without end and each child stays, so the container fills up to its limit and is held there. A
                // failed fork ends the inner shell, so the outer loop starts it again in the slot that frees.
                let task = TestTasks.command(
                    "bomb", "while :; do sh -c 'while :; do sleep 600 & done'; done 2>/dev/null", agent: offer.agentID, mem: 64)
                try await scheduler.launch([task], on: [offer])
                _ = try await scheduler.update("bomb", .taskRunning, timeout: .seconds(30))
                let containerID = try #require(try await Self.container(of: "bomb", agent: agent)?.containerID)
                let pids = try Self.cgroup("pids", of: containerID)
                #expect(Self.read(pids + "/pids.max") == "48")
                try await eventually("the bomb filled the container up to its limit", timeout: .seconds(30), interval: .milliseconds(100)) {
                    Int(Self.read(pids + "/pids.current")) == 48
                }
                for _ in 0..<20 {
                    let current = try #require(Int(Self.read(pids + "/pids.current")), "pids.current is readable")
                    #expect(current <= 48, "never past pids.max: \(current)")
                    // The agent answers while the bomb runs.
                    #expect(try await OperatorClient(agent).get("/health").status == 200)
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect((Self.keyed(pids + "/pids.events")["max"] ?? 0) > 0, "forks were refused at the limit")
                try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: "bomb", agentID: offer.agentID)))
                _ = try await scheduler.update("bomb", .taskKilled, timeout: .seconds(30))
                try await eventually("the bomb's cgroup is removed with every process in it", timeout: .seconds(20)) {
                    !FileManager.default.fileExists(atPath: pids)
                }
            }
        }

        @Test("A custom executor's processes sit in its container's cpu, memory and pids cgroups, limited to its resources")
        func customExecutorRunsInItsContainersCgroups() async throws {
            try await Self.withAgent { scheduler, offer, agent in
                let task = ExecutorAPITests.executorTask("long", "sleep 60", agent: offer.agentID)
                try await scheduler.launch([task], on: [offer])
                _ = try await scheduler.update("long", .taskRunning, timeout: .seconds(30))
                let container = try #require(try await Self.container(of: "echo-executor", agent: agent))
                let containerID = try #require(container.containerID)
                let pid = try #require(container.containerStatus?.executorPID, "GET_CONTAINERS reports the executor's pid")
                // The container's first process (the task monitor) and the executor it runs (its child), when there is one.
                let children = Self.read("/proc/\(pid)/task/\(pid)/children").split(separator: " ").compactMap { UInt32($0) }
                for process in [pid] + children {
                    let lines = Self.read("/proc/\(process)/cgroup").split(separator: "\n")
                    for controller in Self.controllers {
                        let inCgroup = lines.contains { line in
                            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                            guard fields.count == 3, fields[2].hasSuffix("/capstan/\(containerID.value)") else { return false }
                            return fields[1].isEmpty || fields[1].split(separator: ",").contains(Substring(controller))
                        }
                        #expect(inCgroup, "process \(process) is in the container's \(controller) cgroup: \(lines)")
                    }
                }
                let memory = try Self.cgroup("memory", of: containerID)
                let limit = Self.read(memory + "/memory.limit_in_bytes").isEmpty
                    ? Self.read(memory + "/memory.max") : Self.read(memory + "/memory.limit_in_bytes")
                #expect(limit == "\(64 << 20)", "the executor's 32 MiB and its task's 32 MiB")
                #expect(Self.read(memory + "/cgroup.procs").split(separator: "\n").contains(Substring("\(pid)")))
            }
        }
    }
}
