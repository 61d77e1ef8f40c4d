import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    @Suite("Tasks from images")
    struct ImageTaskTests {
        /// A busybox rootfs tarball (Debian's busybox-static) imported into the agent's image store with the CLI.
        static func importBusybox(agentWorkDir: String, scratch: String) throws {
            let root = scratch + "/rootfs"
            try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: root + "/bin/busybox")
            for applet in ["sh", "cat", "hostname", "test", "echo", "ls", "tr", "tail", "id", "stat"] {
                try FileManager.default.createSymbolicLink(atPath: root + "/bin/\(applet)", withDestinationPath: "busybox")
            }
            try Data("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n".utf8)
                .write(to: URL(fileURLWithPath: root + "/etc/passwd"))
            try Data("root:x:0:\nnogroup:x:65534:\n".utf8).write(to: URL(fileURLWithPath: root + "/etc/group"))
            try run("/bin/tar", ["-C", root, "-cf", scratch + "/rootfs.tar", "."])
            try run(CapstanBinary.path, ["image", "import", scratch + "/rootfs.tar", "busybox:e2e", "--work-dir", agentWorkDir])
        }

        /// The rootfs of ``importBusybox(agentWorkDir:scratch:)`` (call it first) again, with USER nobody in its config.
        static func importBusyboxAsNobody(agentWorkDir: String, scratch: String) throws {
            try run(
                CapstanBinary.path,
                ["image", "import", scratch + "/rootfs.tar", "busybox:e2e-nobody", "--user", "nobody", "--work-dir", agentWorkDir])
        }

        static func run(_ path: String, _ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw TestFailure("\(path) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
            }
        }

        /// Root (namespaces, mounts) and Debian's busybox-static, whose binary is the test image.
        static var prerequisites: [Prerequisite] { [.root("containers from images need it"), .busybox] }
        static var prerequisitesMissing: String? { Prerequisites.missing(prerequisites) }

        /// Skips (or fails under CAPSTAN_TEST_STRICT=1) without root and busybox; otherwise starts a master and an
        /// agent whose image store holds busybox:e2e, subscribes a scheduler and hands it the first offer.
        static func withImageAgent(
            _ name: String, agentArguments: [String] = [], _ body: (_ scheduler: EventRecorder, _ offer: Offer, _ agentWorkDir: String) async throws -> Void
        ) async throws {
            guard Prerequisites.met("tasks from images need root and busybox", missing: prerequisitesMissing) else { return }
            try await TestCluster().run { cluster in
                try await cluster.startMaster()
                let workDir = cluster.scratch + "/agent-\(name)"
                try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
                try importBusybox(agentWorkDir: workDir, scratch: cluster.scratch)
                try await cluster.startAgent(workDir: workDir, extraArguments: agentArguments)
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await body(scheduler, offer, workDir)
                await scheduler.disconnect()
            }
        }

        /// The busybox image as a task's ContainerInfo (type MESOS, DOCKER image).
        static func busyboxContainer(hostname: String? = nil, image: String = "busybox:e2e") -> ContainerInfo {
            var container = ContainerInfo(type: .mesos)
            container.mesos = .init(image: Image(type: .docker, docker: .init(name: image)))
            container.hostname = hostname
            return container
        }

        @Test("A task naming an image runs from the image's rootfs in its own PID and UTS namespaces, through the master")
        func taskRunsFromImage() async throws {
            try await Self.withImageAgent("image") { scheduler, offer, workDir in
                var task = TestTasks.command(
                    "boxed",
                    "test ! -e /etc/debian_version && echo rootfs-ok; hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo; echo sandbox=$MESOS_SANDBOX; ls /mnt/mesos/sandbox",
                    agent: offer.agentID)
                task.container = Self.busyboxContainer(hostname: "boxed-host")
                try await scheduler.launch([task], on: [offer])
                try await scheduler.update("boxed", .taskRunning, timeout: .seconds(20))
                try await scheduler.update("boxed", .taskFinished, timeout: .seconds(20))

                let stdout = try #require(Self.findStdout(executor: "boxed", under: workDir + "/slaves"))
                let text = try String(contentsOfFile: stdout, encoding: .utf8)
                #expect(text.contains("rootfs-ok"), "the task sees the image's rootfs, not the host's: \(text)")
                #expect(text.contains("boxed-host"), "its own hostname: \(text)")
                #expect(text.contains("capstan-init"), "PID 1 is the container's init, not the host's: \(text)")
                #expect(text.contains("sandbox=/mnt/mesos/sandbox"), "\(text)")
                #expect(text.contains("stdout"), "the sandbox is mounted at /mnt/mesos/sandbox: \(text)")
            }
        }

        @Test("A memory hog from an image is OOM-killed and reported TASK_FAILED with REASON_CONTAINER_LIMITATION_MEMORY")
        func memoryHogReportsMemoryLimitation() async throws {
            try await Self.withImageAgent("oom") { scheduler, offer, _ in
                var task = TestTasks.command("hog", "tail /dev/zero", agent: offer.agentID, mem: 32)
                task.container = Self.busyboxContainer()
                try await scheduler.launch([task], on: [offer])
                let failed = try await scheduler.update("hog", .taskFailed, timeout: .seconds(30))
                #expect(failed.reason == .reasonContainerLimitationMemory, "\(failed)")
            }
        }

        /// The agent's HTTP endpoint, from the offer's URL.
        static func agentEndpoint(_ offer: Offer) throws -> HostPort {
            let address = try #require(offer.url?.address, "the offer names its agent's URL")
            return HostPort(host: address.ip ?? address.hostname ?? "127.0.0.1", port: Int(address.port))
        }

        /// The agent's GET_CONTAINERS entry of the command task `taskID` (its executor ID is the task ID).
        static func container(of taskID: String, agent: HostPort) async throws -> AgentOperatorResponse.GetContainers.Container? {
            let containers = try await OperatorClient(agent).agentCall(.getContainers).getContainers?.containers ?? []
            return containers.first { $0.executorID?.value == taskID }
        }

        @Test("A CPU-bound task from an image is throttled to its cpus, as GET_CONTAINERS reports from cpuacct")
        func cpuBoundTaskIsThrottledToItsShare() async throws {
            try await Self.withImageAgent("cpu") { scheduler, offer, _ in
                var task = TestTasks.command("spin", "while :; do :; done", agent: offer.agentID, cpus: 0.25, mem: 32)
                task.container = Self.busyboxContainer()
                try await scheduler.launch([task], on: [offer])
                _ = try await scheduler.update("spin", .taskRunning, timeout: .seconds(30))
                let agent = try Self.agentEndpoint(offer)
                let first = try #require(try await Self.container(of: "spin", agent: agent)?.resourceStatistics)
                let start = ContinuousClock.now
                try await Task.sleep(for: .seconds(3))
                let second = try #require(try await Self.container(of: "spin", agent: agent)?.resourceStatistics)
                let wall = (ContinuousClock.now - start).seconds
                let used = ((second.cpusUserTimeSecs ?? 0) + (second.cpusSystemTimeSecs ?? 0))
                    - ((first.cpusUserTimeSecs ?? 0) + (first.cpusSystemTimeSecs ?? 0))
                // 0.25 cpus over `wall` seconds, within a tolerance for tick accounting and a loaded machine.
                #expect(used > 0.25 * wall * 0.5 && used < 0.25 * wall * 1.5, "cpu time \(used) s over \(wall) s at 0.25 cpus")
                #expect(second.cpusLimit == 0.25)
                #expect((second.cpusNrThrottled ?? 0) > (first.cpusNrThrottled ?? 0), "the CFS quota throttled it: \(second)")
                #expect((second.memRssBytes ?? 0) > 0 && second.memLimitBytes == 32 * 1024 * 1024, "\(second)")
                #expect((second.processes ?? 0) >= 2, "capstan-init's PID 1 and the shell: \(second)")
                try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: "spin", agentID: offer.agentID)))
                _ = try await scheduler.update("spin", .taskKilled, timeout: .seconds(30))
            }
        }

        @Test("A fork bomb from an image stops at the agent's --container-pids-max and is killed cleanly")
        func forkBombStopsAtThePidsLimit() async throws {
            try await Self.withImageAgent("pids", agentArguments: ["--container-pids-max", "48"]) { scheduler, offer, _ in
                // Forks without end and each child stays, so the container fills up to its limit and is held there. A
                // failed fork ends busybox's shell, so an outer loop starts the forking one again in the slot it frees.
                var task = TestTasks.command(
                    "bomb", "while :; do sh -c 'while :; do busybox sleep 60 & done'; done 2>/dev/null", agent: offer.agentID, mem: 64)
                task.container = Self.busyboxContainer()
                try await scheduler.launch([task], on: [offer])
                _ = try await scheduler.update("bomb", .taskRunning, timeout: .seconds(30))
                let agent = try Self.agentEndpoint(offer)
                let containerID = try #require(try await Self.container(of: "bomb", agent: agent)?.containerID)
                let cgroup = ["/sys/fs/cgroup/pids/capstan/\(containerID.value)", "/sys/fs/cgroup/capstan/\(containerID.value)"]
                    .first { FileManager.default.fileExists(atPath: $0 + "/pids.max") }
                let directory = try #require(cgroup, "the container has a pids cgroup")
                #expect(try String(contentsOfFile: directory + "/pids.max", encoding: .utf8) == "48\n")
                var peak = 0
                for _ in 0..<20 {
                    let container = try await Self.container(of: "bomb", agent: agent)
                    let processes = try #require(container?.resourceStatistics?.processes, "\(String(describing: container))")
                    peak = max(peak, Int(processes))
                    #expect(processes <= 48, "never past pids.max: \(processes)")
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(peak == 48, "the bomb filled the container up to its limit: \(peak) processes at most")
                try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: "bomb", agentID: offer.agentID)))
                _ = try await scheduler.update("bomb", .taskKilled, timeout: .seconds(30))
                try await eventually("the bomb's cgroup is removed") { !FileManager.default.fileExists(atPath: directory) }
            }
        }

        @Test("Container setup failures through the master are TASK_FAILED naming the step and the errno, and leave nothing behind")
        func setupFailuresAreTaskFailedWithTheStepAndErrno() async throws {
            try await Self.withImageAgent("setup") { scheduler, offer, workDir in
                var missing = TestTasks.command("missing", "", agent: offer.agentID)
                missing.command = CommandInfo(shell: false, value: "/no/such/binary", arguments: ["binary"])
                missing.container = Self.busyboxContainer()
                var ghost = TestTasks.command("ghost", "true", agent: offer.agentID)
                ghost.command?.user = "ghost"
                ghost.container = Self.busyboxContainer()
                try await scheduler.launch([missing, ghost], on: [offer])
                let failed = try await scheduler.update("missing", .taskFailed, timeout: .seconds(30))
                #expect(failed.reason == .reasonContainerLaunchFailed, "\(failed)")
                #expect(failed.message?.contains("execve '/no/such/binary': No such file or directory (errno 2)") == true, "\(failed)")
                let refused = try await scheduler.update("ghost", .taskFailed, timeout: .seconds(30))
                #expect(refused.message?.contains("resolve user: user 'ghost' is not in the container's /etc/passwd") == true, "\(refused)")
                // No container state or layer-user records are left, and the agent lists no container.
                try await eventually("the failed containers are cleaned up") {
                    let states = (try? FileManager.default.contentsOfDirectory(atPath: workDir + "/containers/containers")) ?? []
                    let users = (try? FileManager.default.contentsOfDirectory(atPath: workDir + "/images/users")) ?? []
                    return states.filter { !$0.hasPrefix(".") }.isEmpty && users.isEmpty
                }
                let agent = try Self.agentEndpoint(offer)
                #expect(try await OperatorClient(agent).agentCall(.getContainers).getContainers?.containers.isEmpty == true)
            }
        }

        static func findStdout(executor: String, under root: String) -> String? {
            guard let enumerator = FileManager.default.enumerator(atPath: root) else { return nil }
            for case let path as String in enumerator where path.contains("/executors/\(executor)/runs/") && path.hasSuffix("/stdout") {
                return root + "/" + path
            }
            return nil
        }
    }
}
