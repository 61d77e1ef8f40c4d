import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// Mesos task health checks run by the agent's command executor, seen through the scheduler and operator APIs.
    @Suite("Task health checks")
    struct HealthCheckTests {
        /// The agent's offered port range (TestCluster's default resources).
        static let offeredPorts: ClosedRange<Int> = 31000...31099

        /// A port of the offered range that nothing listens on right now.
        static func freeOfferedPort(excluding taken: Set<Int> = []) throws -> Int {
            for port in offeredPorts.shuffled() where !taken.contains(port) && LoopbackSocket.isBindable(port: port) { return port }
            throw TestFailure("no free port in \(offeredPorts)")
        }

        /// A command task that also takes `ports` from the offer.
        static func task(_ id: String, _ shell: String, agent: AgentID, ports: [Int] = [], check: HealthCheck) -> TaskInfo {
            var task = TestTasks.command(id, shell, agent: agent)
            if !ports.isEmpty {
                let ranges = ports.map { ValueRange(begin: UInt64($0), end: UInt64($0)) }
                task.resources += Resources([.ranges("ports", ranges)]).mesos
            }
            task.healthCheck = check
            return task
        }

        /// The `healthy` flags of a task's TASK_RUNNING updates so far, in order.
        static func healthFlags(_ scheduler: EventRecorder, _ taskID: TaskID) async -> [Bool] {
            await scheduler.events.compactMap { event -> Bool? in
                guard let status = event.update?.status, status.taskID == taskID, status.state == .taskRunning else { return nil }
                return status.healthy
            }
        }

        static func healthUpdate(_ scheduler: EventRecorder, _ taskID: TaskID, healthy: Bool, timeout: Duration = .seconds(20))
            async throws -> TaskStatus
        {
            try await scheduler.any("TASK_RUNNING healthy=\(healthy) for \(taskID)", timeout: timeout) {
                $0.update?.status.taskID == taskID && $0.update?.status.state == .taskRunning && $0.update?.status.healthy == healthy
            }.update!.status
        }

        @Test("HTTP and TCP checks of a host task serving on an offered port report TASK_RUNNING healthy=true once")
        func httpAndTCPChecksReportHealthy() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                let httpPort = try Self.freeOfferedPort()
                let tcpPort = try Self.freeOfferedPort(excluding: [httpPort])
                let timing = (delay: 0.0, interval: 0.3, timeout: 2.0, grace: 20.0)
                let http = Self.task(
                    "web-http", "exec /usr/bin/python3 -m http.server \(httpPort) --bind 127.0.0.1", agent: offer.agentID,
                    ports: [httpPort],
                    check: HealthCheck(
                        type: .http, http: .init(port: UInt32(httpPort), path: "/"), delaySeconds: timing.delay,
                        intervalSeconds: timing.interval, timeoutSeconds: timing.timeout, gracePeriodSeconds: timing.grace))
                let tcp = Self.task(
                    "web-tcp", "exec /usr/bin/python3 -m http.server \(tcpPort) --bind 127.0.0.1", agent: offer.agentID,
                    ports: [tcpPort],
                    check: HealthCheck(
                        type: .tcp, tcp: .init(port: UInt32(tcpPort)), delaySeconds: timing.delay,
                        intervalSeconds: timing.interval, timeoutSeconds: timing.timeout, gracePeriodSeconds: timing.grace))
                try await scheduler.launch([http, tcp], on: [offer])

                let running = try await scheduler.update("web-http", .taskRunning)
                #expect(running.healthy == nil, "the first TASK_RUNNING comes before any check")
                let healthy = try await Self.healthUpdate(scheduler, "web-http", healthy: true)
                #expect(healthy.reason == .reasonTaskHealthCheckStatusUpdated)
                #expect(healthy.uuid != nil, "health updates go through the status update stream")
                #expect(healthy.message?.contains("200") == true)
                try await Self.healthUpdate(scheduler, "web-tcp", healthy: true)

                // Later successes report nothing new, and nothing ever reported the tasks unhealthy.
                try await Task.sleep(for: .seconds(1.5))
                #expect(await Self.healthFlags(scheduler, "web-http") == [true])
                #expect(await Self.healthFlags(scheduler, "web-tcp") == [true])

                // The operator API shows the latest status with its healthy flag.
                let tasks = try #require(try await OperatorClient(cluster.master).call(.getTasks).getTasks)
                let listed = try #require(tasks.tasks.first { $0.taskID == "web-http" })
                #expect(listed.state == .taskRunning)
                #expect(listed.statuses.last?.healthy == true)

                // A kill by the framework is a plain TASK_KILLED: no healthy flag.
                try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: "web-http")))
                let killed = try await scheduler.update("web-http", .taskKilled)
                #expect(killed.healthy == nil)
                try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: "web-tcp")))
                try await scheduler.update("web-tcp", .taskKilled)
                await scheduler.disconnect()
            }
        }

        @Test("An HTTPS check accepts the task's self-signed certificate, as Mesos' curl -k does")
        func httpsCheckSkipsCertificateVerification() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                let port = try Self.freeOfferedPort()
                let server = """
                    import http.server, ssl
                    server = http.server.HTTPServer(("127.0.0.1", \(port)), http.server.SimpleHTTPRequestHandler)
                    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                    context.load_cert_chain("cert.pem", "key.pem")
                    server.socket = context.wrap_socket(server.socket, server_side=True)
                    server.serve_forever()
                    """
                let shell = """
                    openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=capstan-test -days 1 -keyout key.pem -out cert.pem 2>/dev/null
                    exec /usr/bin/python3 -c '\(server)'
                    """
                let task = Self.task(
                    "tls", shell, agent: offer.agentID, ports: [port],
                    check: HealthCheck(
                        type: .http, http: .init(scheme: "https", port: UInt32(port), path: "/"), delaySeconds: 0,
                        intervalSeconds: 0.3, timeoutSeconds: 5, gracePeriodSeconds: 30))
                try await scheduler.launch([task], on: [offer])
                let healthy = try await Self.healthUpdate(scheduler, "tls", healthy: true, timeout: .seconds(30))
                #expect(healthy.message?.contains("answered 200") == true, "\(healthy.message ?? "")")
                try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: "tls")))
                try await scheduler.update("tls", .taskKilled)
                await scheduler.disconnect()
            }
        }

        @Test("A TCP check of a closed port reports healthy=false consecutive_failures times, then the task is TASK_KILLED healthy=false")
        func failingCheckKillsTheTask() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master, capabilities: [.init(type: .taskKillingState)])
                let offer = try #require(try await scheduler.nextOffers().first)
                let closedPort = try Self.freeOfferedPort()
                let task = Self.task(
                    "doomed", "sleep 60", agent: offer.agentID,
                    check: HealthCheck(
                        type: .tcp, tcp: .init(port: UInt32(closedPort)), delaySeconds: 0, intervalSeconds: 0.2, timeoutSeconds: 1,
                        consecutiveFailures: 3, gracePeriodSeconds: 0))
                try await scheduler.launch([task], on: [offer])
                try await scheduler.update("doomed", .taskRunning)
                let unhealthy = try await Self.healthUpdate(scheduler, "doomed", healthy: false)
                #expect(unhealthy.message?.contains("127.0.0.1:\(closedPort)") == true)
                try await scheduler.update("doomed", .taskKilling)
                let killed = try await scheduler.update("doomed", .taskKilled)
                #expect(killed.healthy == false, "Mesos marks a kill by a failing health check with healthy=false")
                #expect(await Self.healthFlags(scheduler, "doomed") == [false, false, false])

                try await eventually("the master lists the task as killed") {
                    let tasks = try await OperatorClient(cluster.master).call(.getTasks).getTasks
                    let all = (tasks?.tasks ?? []) + (tasks?.completedTasks ?? [])
                    return all.contains { $0.taskID == "doomed" && $0.state == .taskKilled && $0.statuses.last?.healthy == false }
                }
                await scheduler.disconnect()
            }
        }

        @Test("A COMMAND check runs in the sandbox: failures in the grace period are ignored, healthy once the marker exists, killed after it goes")
        func commandCheckFollowsTheMarkerFile() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                let task = Self.task(
                    "marked", "sleep 1; touch marker; sleep 3; rm marker; sleep 60", agent: offer.agentID,
                    check: HealthCheck(
                        type: .command, command: CommandInfo(value: "test -f marker"), delaySeconds: 0, intervalSeconds: 0.3,
                        timeoutSeconds: 5, consecutiveFailures: 3, gracePeriodSeconds: 30))
                try await scheduler.launch([task], on: [offer])
                try await scheduler.update("marked", .taskRunning)
                try await Self.healthUpdate(scheduler, "marked", healthy: true)
                try await Self.healthUpdate(scheduler, "marked", healthy: false)
                let killed = try await scheduler.update("marked", .taskKilled, timeout: .seconds(20))
                #expect(killed.healthy == false)
                // Failures before the marker existed fell in the grace period and were never reported.
                #expect(await Self.healthFlags(scheduler, "marked") == [true, false, false, false])

                // Nothing of the checks is left behind: no process runs in the task's sandbox any more.
                try await eventually("no process left in the sandbox") { Self.processes(inSandboxOf: "marked").isEmpty }
                await scheduler.disconnect()
            }
        }

        /// Pids of processes whose working directory is a sandbox of `executor`.
        static func processes(inSandboxOf executor: String) -> [Int32] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.compactMap { entry -> Int32? in
                guard let pid = Int32(entry),
                    let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/cwd"),
                    cwd.contains("/executors/\(executor)/runs/")
                else { return nil }
                return pid
            }
        }

        @Test("A COMMAND check of a task from an image runs inside its container: its root filesystem, working directory and user")
        func commandCheckRunsInsideTheImageTasksContainer() async throws {
            try await ImageTaskTests.withImageAgent("health-command") { scheduler, offer, _ in
                // The host (Debian) has /etc/debian_version, the busybox image does not; the task works in the sandbox
                // mount, so the check (run as the task is) sees the marker there.
                let check = HealthCheck(
                    type: .command,
                    command: CommandInfo(value: "test ! -e /etc/debian_version && test -f marker && test \"$(pwd)\" = /mnt/mesos/sandbox && test \"$MESOS_SANDBOX\" = /mnt/mesos/sandbox"),
                    delaySeconds: 0, intervalSeconds: 0.3, timeoutSeconds: 5, consecutiveFailures: 3, gracePeriodSeconds: 20)
                var task = Self.task("boxed-command", "echo ok > marker && exec busybox sleep 60", agent: offer.agentID, check: check)
                task.container = ImageTaskTests.busyboxContainer()
                // A task that runs as nobody is checked as nobody.
                var asNobody = Self.task(
                    "boxed-nobody", "exec busybox sleep 60", agent: offer.agentID,
                    check: HealthCheck(
                        type: .command, command: CommandInfo(value: "test \"$(id -u)\" = 65534 && test ! -e /etc/debian_version"),
                        delaySeconds: 0, intervalSeconds: 0.3, timeoutSeconds: 5, consecutiveFailures: 3, gracePeriodSeconds: 20))
                asNobody.command?.user = "nobody"
                asNobody.container = ImageTaskTests.busyboxContainer()
                try await scheduler.launch([task, asNobody], on: [offer])
                try await Self.healthUpdate(scheduler, "boxed-nobody", healthy: true, timeout: .seconds(30))
                let healthy = try await Self.healthUpdate(scheduler, "boxed-command", healthy: true, timeout: .seconds(30))
                #expect(healthy.message?.contains("exited with status 0") == true, "\(healthy.message ?? "")")
                #expect(await Self.healthFlags(scheduler, "boxed-command") == [true], "no failure was reported")
                for id in ["boxed-command", "boxed-nobody"] {
                    try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: TaskID(id))))
                    try await scheduler.update(TaskID(id), .taskKilled, timeout: .seconds(20))
                }
            }
        }

        @Test("HTTP and TCP checks of a task in a container with its own network namespace probe 127.0.0.1 inside it")
        func checksEnterTheContainersNetworkNamespace() async throws {
            try await ImageTaskTests.withImageAgent("health") { scheduler, offer, _ in
                // The server listens on 127.0.0.1 of the container's namespace only: from the host's, nothing answers.
                // The host's port is held (bound, never listening) for the test, so nothing on the host can answer there.
                let hostPort = ClosedPort()
                let port = hostPort.port
                let serve = "cd /mnt/mesos/sandbox && echo ok > index.html && exec /bin/busybox httpd -f -p 127.0.0.1:\(port) -h ."
                var tasks: [TaskInfo] = []
                for (id, check) in [
                    ("boxed-http", HealthCheck(type: .http, http: .init(port: UInt32(port), path: "/index.html"))),
                    ("boxed-tcp", HealthCheck(type: .tcp, tcp: .init(port: UInt32(port)))),
                ] {
                    var check = check
                    check.delaySeconds = 0
                    check.intervalSeconds = 0.3
                    check.timeoutSeconds = 5
                    check.gracePeriodSeconds = 20
                    var task = Self.task(id, serve, agent: offer.agentID, check: check)
                    task.container = ImageTaskTests.busyboxContainer()
                    task.container?.networkInfos = [NetworkInfo()]
                    tasks.append(task)
                }
                try await scheduler.launch(tasks, on: [offer])
                let healthy = try await Self.healthUpdate(scheduler, "boxed-http", healthy: true, timeout: .seconds(30))
                #expect(healthy.message?.contains("answered 200") == true, "\(healthy.message ?? "")")
                try await Self.healthUpdate(scheduler, "boxed-tcp", healthy: true, timeout: .seconds(30))
                #expect(!LoopbackSocket.canConnect(port: port), "nothing answers on the host's 127.0.0.1:\(port): the checks went into the container")
                withExtendedLifetime(hostPort) {}
                for id in ["boxed-http", "boxed-tcp"] {
                    try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: TaskID(id))))
                    try await scheduler.update(TaskID(id), .taskKilled, timeout: .seconds(20))
                }
            }
        }
    }
}
