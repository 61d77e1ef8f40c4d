import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    @Suite("Agent recovery")
    struct AgentRecoveryTests {
        /// Heartbeats slow enough that the master still counts a SIGKILLed agent as reachable while it restarts.
        static let masterFlags = ["--agent-ping-timeout", "3secs"]

        @Test("Tasks keep running across a SIGKILL of the agent; the restarted agent re-attaches and kills them on request")
        func tasksSurviveAgentCrash() async throws {
            try await Self.withRecoveringAgent("survive") { agent in
                let scheduler: EventRecorder = agent.scheduler
                let offer: Offer = agent.offer
                var tasks = [TestTasks.command("host-sleeper", "sleep 600", agent: offer.agentID)]
                if agent.imagesAvailable {
                    var boxed = TestTasks.command("image-sleeper", "sleep 600", agent: offer.agentID)
                    boxed.container = Self.recoveryImage()
                    tasks.append(boxed)
                }
                try await scheduler.launch(tasks, on: [offer])
                for task in tasks { try await scheduler.update(task.taskID, .taskRunning, timeout: .seconds(20)) }
                let before = try await agent.containers()
                #expect(before.count == tasks.count, "\(before)")

                try await agent.crashAndRestart()
                let after = try await agent.containers()
                #expect(after == before, "the restarted agent reports the same containers with the same pids")
                for pid in before.values { #expect(kill(pid, 0) == 0, "pid \(pid) still runs") }
                let running = try await OperatorClient(agent.cluster.master).call(.getTasks).getTasks?.tasks ?? []
                for task in tasks {
                    #expect(running.contains { $0.taskID == task.taskID && $0.state == .taskRunning }, "\(task.taskID): \(running)")
                }

                for task in tasks {
                    try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: task.taskID, agentID: offer.agentID)))
                }
                for task in tasks {
                    let killed = try await scheduler.update(task.taskID, .taskKilled, timeout: .seconds(20))
                    #expect(killed.source != .sourceMaster, "the agent reported the kill: \(killed)")
                }
                for pid in before.values {
                    try await eventually("pid \(pid) gone") { kill(pid, 0) != 0 }
                }
                try await agent.expectNothingLeft(containers: Array(before.keys))
            }
        }

        @Test("A task that ends while the agent is down reports its exit status, with a reason, once the agent is back")
        func taskEndingWhileAgentIsDownIsReported() async throws {
            try await Self.withRecoveringAgent("exit") { agent in
                let scheduler: EventRecorder = agent.scheduler
                let offer: Offer = agent.offer
                let waitThenExit = { (code: Int) in "while [ ! -e \"$MESOS_SANDBOX/release\" ]; do sleep 0.05; done; exit \(code)" }
                var tasks = [
                    TestTasks.command("host-exits", waitThenExit(0), agent: offer.agentID),
                    TestTasks.command("host-fails", waitThenExit(3), agent: offer.agentID),
                ]
                if agent.imagesAvailable {
                    var boxedOK = TestTasks.command("image-finishes", waitThenExit(0), agent: offer.agentID)
                    boxedOK.container = Self.recoveryImage()
                    var boxedFail = TestTasks.command("image-fails", waitThenExit(3), agent: offer.agentID)
                    boxedFail.container = Self.recoveryImage()
                    tasks += [boxedOK, boxedFail]
                }
                try await scheduler.launch(tasks, on: [offer])
                for task in tasks { try await scheduler.update(task.taskID, .taskRunning, timeout: .seconds(20)) }
                let containers = try await agent.containers()
                let sandboxes = try await agent.sandboxes()

                agent.crash()
                for sandbox in sandboxes { FileManager.default.createFile(atPath: sandbox + "/release", contents: Data()) }
                for pid in containers.values {
                    try await eventually("pid \(pid) exited while the agent is down") { kill(pid, 0) != 0 }
                }
                try await agent.restart()

                // A plain host task's monitor kept its status for the restarted agent, as capstan-init does for a container
                // (before: TASK_FAILED "Command exited while the agent was down; its exit status is unknown", no reason).
                let recovered = " (the agent recovered the task after a restart)"
                let host = try await scheduler.update("host-exits", .taskFinished, timeout: .seconds(20))
                #expect(host.message == "Command exited with status 0" + recovered, "\(host)")
                let hostFailed = try await scheduler.update("host-fails", .taskFailed, timeout: .seconds(20))
                #expect(hostFailed.message == "Command exited with status 3" + recovered, "\(hostFailed)")
                #expect(hostFailed.reason == .reasonCommandExecutorFailed, "\(hostFailed)")
                #expect(hostFailed.source == .sourceAgent, "\(hostFailed)")
                if agent.imagesAvailable {
                    let finished = try await scheduler.update("image-finishes", .taskFinished, timeout: .seconds(20))
                    #expect(finished.message == "Command exited with status 0" + recovered, "\(finished)")
                    let failed = try await scheduler.update("image-fails", .taskFailed, timeout: .seconds(20))
                    #expect(failed.message == "Command exited with status 3" + recovered, "the status capstan-init kept: \(failed)")
                    #expect(failed.reason == .reasonCommandExecutorFailed, "\(failed)")
                }
                try await agent.expectNothingLeft(containers: Array(containers.keys))
            }
        }

        @Test("Fault: SIGKILL the agent with 20 running containers: all 20 recovered, none restarted, none lost; the 4 that exited meanwhile reported once each")
        func twentyContainersSurviveAnAgentSIGKILL() async throws {
            try await Self.withRecoveringAgent("twenty") { agent in
                let scheduler: EventRecorder = agent.scheduler
                let offer: Offer = agent.offer
                let exitWhenReleased = "while [ ! -e \"$MESOS_SANDBOX/release\" ]; do sleep 0.1; done; exit 0"
                var tasks: [TaskInfo] = []
                for index in 0..<20 {
                    let exits = index % 5 == 0  // 4 of them end while the agent is down
                    var task = TestTasks.command(
                        "fault-\(index)\(exits ? "-exits" : "")", exits ? exitWhenReleased : "sleep 600", agent: offer.agentID, cpus: 0.05, mem: 16)
                    if agent.imagesAvailable && index % 2 == 1 { task.container = Self.recoveryImage() }  // half from an image
                    tasks.append(task)
                }
                try await scheduler.launch(tasks, on: [offer])
                for task in tasks { try await scheduler.update(task.taskID, .taskRunning, timeout: .seconds(60)) }
                let before = try await agent.containers()
                #expect(before.count == 20, "\(before.count) containers")
                let sandboxes = try await agent.sandboxes()

                agent.crash()
                let exiting = tasks.filter { $0.taskID.value.hasSuffix("-exits") }
                for sandbox in sandboxes {
                    guard exiting.contains(where: { sandbox.contains("/executors/\($0.taskID.value)/") }) else { continue }
                    FileManager.default.createFile(atPath: sandbox + "/release", contents: Data())
                }
                // The released four end while the agent is down; the other sixteen run on.
                try await eventually("4 containers exited while the agent is down", timeout: .seconds(30)) {
                    before.values.filter { kill($0, 0) != 0 }.count == exiting.count
                }
                #expect(before.values.filter { kill($0, 0) == 0 }.count == 16)
                try await agent.restart()

                for task in exiting { try await scheduler.update(task.taskID, .taskFinished, timeout: .seconds(30)) }
                let after = try await agent.containers()
                let running = try await OperatorClient(agent.cluster.master).call(.getTasks).getTasks?.tasks ?? []
                let stillRunning = tasks.filter { task in running.contains { $0.taskID == task.taskID && $0.state == .taskRunning } }
                let restarted = after.filter { id, pid in before[id].map { $0 != pid } ?? true }
                let events = await scheduler.events
                let finishedCounts = exiting.map { task in
                    events.filter { $0.update?.status.taskID == task.taskID && $0.update?.status.state == .taskFinished }.count
                }
                let lostOrFailed = events.filter { [.taskLost, .taskFailed, .taskGone, .taskDropped].contains($0.update?.status.state) }
                print(
                    "fault agent-sigkill: tasks before 20, running after \(stillRunning.count), exited meanwhile \(exiting.count) "
                        + "(reported \(finishedCounts) times), restarted \(restarted.count), lost \(lostOrFailed.count), containers after \(after.count)")
                #expect(stillRunning.count == 16)
                #expect(after.count == 16)
                #expect(restarted.isEmpty, "every recovered container keeps its pid: \(restarted)")
                #expect(finishedCounts == [1, 1, 1, 1], "each exit is reported once")
                #expect(lostOrFailed.isEmpty, "\(lostOrFailed)")
                for task in tasks where !exiting.contains(where: { $0.taskID == task.taskID }) {
                    try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: task.taskID, agentID: offer.agentID)))
                }
                for task in tasks where !exiting.contains(where: { $0.taskID == task.taskID }) {
                    try await scheduler.update(task.taskID, .taskKilled, timeout: .seconds(30))
                }
                try await agent.expectNothingLeft(containers: Array(before.keys))
            }
        }

        @Test("A truncated task checkpoint stops the agent with its path (never read as no task); restored, the task is recovered")
        func truncatedCheckpointIsRefusedWithItsPath() async throws {
            try await Self.withRecoveringAgent("torn") { agent in
                let scheduler: EventRecorder = agent.scheduler
                let offer: Offer = agent.offer
                let task = TestTasks.command("torn-sleeper", "sleep 600", agent: offer.agentID)
                try await scheduler.launch([task], on: [offer])
                try await scheduler.update(task.taskID, .taskRunning, timeout: .seconds(20))
                let pids = try await agent.containers()
                #expect(pids.count == 1)

                agent.crash()
                let meta = agent.workDir + "/meta/frameworks"
                let checkpoint = try #require(
                    FileManager.default.enumerator(atPath: meta)?.compactMap { $0 as? String }.first { $0.hasSuffix("/tasks/\(task.taskID.value)/task.json") }
                        .map { meta + "/" + $0 }, "no task.json for \(task.taskID) under \(meta)")
                let whole = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
                try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: checkpoint))  // torn at half its bytes

                let refusedLog = agent.workDir + ".torn.log"
                let refused = try CapstanProcess(
                    arguments: agent.started.restartArguments(listenFile: ListenFile.path(in: agent.cluster.scratch, name: "agent-torn")),
                    logPath: refusedLog)
                try await eventually("the agent refuses the torn checkpoint and exits", timeout: .seconds(30)) { !refused.isRunning }
                #expect(refused.process.terminationStatus != 0)
                #expect(refused.log.contains("Checkpoint \(checkpoint) is not a whole TaskCheckpoint"), "\(refused.log.suffix(2000))")
                #expect(refused.log.contains("Move it aside"), "\(refused.log.suffix(2000))")
                for pid in pids.values { #expect(kill(pid, 0) == 0, "the task (pid \(pid)) still runs: refusing kills nothing") }

                try whole.write(to: URL(fileURLWithPath: checkpoint))
                try await agent.restart()
                let recovered = try await agent.containers()
                print(
                    "fault torn-checkpoint: refused with its path \(refused.log.contains(checkpoint)), tasks killed by the refusal "
                        + "\(pids.values.filter { kill($0, 0) != 0 }.count), recovered once restored \(recovered.count) of \(pids.count), restarted \(recovered == pids ? 0 : 1)")
                #expect(recovered == pids, "restored, the same container is recovered")
                try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: task.taskID, agentID: offer.agentID)))
                _ = try await scheduler.update(task.taskID, .taskKilled, timeout: .seconds(20))
            }
        }

        // MARK: Fixture

        /// A cluster whose single agent can be SIGKILLed and started again on the same work dir and port.
        final class RecoveringAgent: @unchecked Sendable {
            let cluster: TestCluster
            let workDir: String
            let endpoint: HostPort
            let started: TestCluster.TestAgent
            let imagesAvailable: Bool
            var scheduler: EventRecorder!
            var offer: Offer!
            private var current: CapstanProcess
            private var restarts = 0

            init(cluster: TestCluster, agent: TestCluster.TestAgent, imagesAvailable: Bool) {
                self.cluster = cluster
                workDir = agent.workDir
                endpoint = agent.endpoint
                started = agent
                current = agent.process
                self.imagesAvailable = imagesAvailable
            }

            func crash() { current.crash() }

            /// Starts the agent again (same flags, work dir and port) and waits until it has re-registered.
            func restart() async throws {
                restarts += 1
                let log = workDir + ".restart-\(restarts).log"
                let listenFile = ListenFile.path(in: cluster.scratch, name: "agent-restart")
                current = try CapstanProcess(arguments: started.restartArguments(listenFile: listenFile), logPath: log)
                #expect(try await ListenFile.address(at: listenFile, of: current) == endpoint, "the agent took its old port again")
                try await waitForHealth(endpoint)
                try await eventually("agent re-registered", timeout: .seconds(20)) { [current] in
                    current.log.contains("Registered with master")
                }
            }

            func crashAndRestart() async throws {
                crash()
                try await restart()
            }

            /// Stops the restarted agent (the cluster stops the first process it started).
            func stop() async { await current.stop() }

            var logs: String { current.log }

            /// The agent's containers and the pids of their first processes (GET_CONTAINERS).
            func containers() async throws -> [ContainerID: Int32] {
                let response = try await OperatorClient(endpoint).agentCall(.getContainers)
                var result: [ContainerID: Int32] = [:]
                for container in response.getContainers?.containers ?? [] {
                    result[container.containerID] = container.containerStatus?.executorPID.map { Int32($0) } ?? -1
                }
                return result
            }

            /// The sandboxes of every run under the agent's work dir.
            func sandboxes() async throws -> [String] {
                let root = workDir + "/slaves"
                guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
                var found: [String] = []
                for case let path as String in enumerator where path.hasSuffix("/stdout") && path.contains("/runs/") {
                    found.append(root + "/" + (path as NSString).deletingLastPathComponent)
                }
                return found
            }

            /// No cgroup, mount, container state or container checkpoint is left for `containers`.
            func expectNothingLeft(containers: [ContainerID]) async throws {
                for id in containers {
                    try await eventually("container \(id) cleaned up") {
                        Self.leftovers(of: id, workDir: self.workDir).isEmpty
                    }
                    #expect(Self.leftovers(of: id, workDir: workDir).isEmpty)
                }
                let mountinfo = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
                #expect(!mountinfo.contains(workDir), "no mount under the agent's work dir")
            }

            static func leftovers(of id: ContainerID, workDir: String) -> [String] {
                var paths = ["cpu", "cpuacct", "memory", "pids"].map { "/sys/fs/cgroup/\($0)/capstan/\(id)" }
                paths += [
                    workDir + "/containers/containers/\(id)", workDir + "/meta/containers/\(id).json",
                    workDir + "/containers/plain/\(id).exit_status",
                ]
                return paths.filter { FileManager.default.fileExists(atPath: $0) }
            }
        }

        /// Starts a master and an agent (with the recovery image in its store when root and busybox are there),
        /// subscribes a scheduler, and runs `body`; the restarted agent is stopped however `body` ends.
        static func withRecoveringAgent(
            _ name: String, extraArguments: [String] = [], _ body: (RecoveringAgent) async throws -> Void
        ) async throws {
            let imagesAvailable = Prerequisites.met(
                "the image half only: tasks from images need root and busybox", missing: ImageTaskTests.prerequisitesMissing)
            try await TestCluster(masterFlags: masterFlags).run { cluster in
                try await cluster.startMaster()
                let workDir = cluster.scratch + "/agent-\(name)"
                try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
                if imagesAvailable { try importRecoveryImage(agentWorkDir: workDir, scratch: cluster.scratch) }
                let started = try await cluster.startAgent(workDir: workDir, extraArguments: extraArguments)
                let agent = RecoveringAgent(cluster: cluster, agent: started, imagesAvailable: imagesAvailable)
                do {
                    agent.scheduler = try await EventRecorder.subscribe(cluster.master)
                    agent.offer = try #require(try await agent.scheduler.nextOffers().first)
                    try await body(agent)
                    await agent.scheduler.disconnect()
                    await agent.stop()
                } catch {
                    let log = agent.logs
                    await agent.scheduler?.disconnect()
                    await agent.stop()
                    throw TestFailure("\(error)\n\nRestarted agent log (last 4000 chars):\n\(log.suffix(4000))")
                }
            }
        }

        /// A busybox rootfs with `sleep` (Debian's busybox-static), imported as `recovery:e2e`.
        static func importRecoveryImage(agentWorkDir: String, scratch: String) throws {
            let root = scratch + "/recovery-rootfs"
            for directory in ["/bin", "/etc", "/tmp"] {
                try FileManager.default.createDirectory(atPath: root + directory, withIntermediateDirectories: true)
            }
            try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: root + "/bin/busybox")
            for applet in ["sh", "sleep", "test", "[", "cat", "echo"] {
                try FileManager.default.createSymbolicLink(atPath: root + "/bin/\(applet)", withDestinationPath: "busybox")
            }
            try Data("root:x:0:0:root:/root:/bin/sh\n".utf8).write(to: URL(fileURLWithPath: root + "/etc/passwd"))
            try ImageTaskTests.run("/bin/tar", ["-C", root, "-cf", scratch + "/recovery-rootfs.tar", "."])
            try ImageTaskTests.run(
                CapstanBinary.path, ["image", "import", scratch + "/recovery-rootfs.tar", "recovery:e2e", "--work-dir", agentWorkDir])
        }

        static func recoveryImage() -> ContainerInfo {
            var container = ContainerInfo(type: .mesos)
            container.mesos = .init(image: Image(type: .docker, docker: .init(name: "recovery:e2e")))
            return container
        }
    }
}
