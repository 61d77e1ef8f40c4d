import CapstanAPI
import CapstanAPIClient
import CapstanCore
import Foundation

/// A master and agents running as real `capstan` processes on loopback, each with its own work dir under a scratch
/// directory. Each listens on port 0 and reports the port it bound (`--listen-file`), so no two tests race for a port.
/// Timings are shortened so failure detection takes well under a second.
public final class TestCluster: @unchecked Sendable {
    public let scratch: String
    /// The master's address: port 0 until ``startMaster()`` has it bound, then the bound port (a restarted master
    /// takes the same one again, so agents and schedulers find it).
    public private(set) var master: HostPort
    public private(set) var masterProcess: CapstanProcess?
    public private(set) var agents: [TestAgent] = []
    public let masterFlags: [String]
    /// The `Authorization` header the cluster's own operator calls send (set it when the master or agents run with
    /// `--authenticate-http`).
    public var operatorAuthorization: String?

    /// A running agent process.
    public struct TestAgent: Sendable {
        public let endpoint: HostPort
        public let workDir: String
        public let process: CapstanProcess
        public let arguments: [String]

        /// The arguments to start this agent again on the port it bound (its executors know that endpoint), with its
        /// new bound address reported to `listenFile`.
        public func restartArguments(listenFile: String) -> [String] {
            var arguments = self.arguments
            for (flag, value) in [("--listen", endpoint.description), ("--listen-file", listenFile)] {
                if let index = arguments.firstIndex(of: flag), index + 1 < arguments.count { arguments[index + 1] = value }
            }
            return arguments
        }
    }

    /// `masterHost`: the address the master listens on (a test's own veth address for agents in network namespaces;
    /// it then needs `--insecure` among `masterFlags`).
    public init(masterFlags: [String] = [], masterHost: String = "127.0.0.1") throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-test-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        master = HostPort(host: masterHost, port: 0)
        self.masterFlags = masterFlags
        // Agents authenticate to the master: one principal and secret per agent slot, all listed for the master.
        let lines = (0..<Self.agentSlots).map { "agent-\($0) \(Self.secret(slot: $0))" }
        try (lines.joined(separator: "\n") + "\n").write(toFile: agentCredentialsPath, atomically: true, encoding: .utf8)
        for slot in 0..<Self.agentSlots {
            try "agent-\(slot) \(Self.secret(slot: slot))\n".write(toFile: credentialPath(slot: slot), atomically: true, encoding: .utf8)
        }
    }

    static let agentSlots = 16
    private static func secret(slot: Int) -> String { "test-secret-\(slot)-\(ProcessInfo.processInfo.processIdentifier)" }

    /// The master's `--agent-credentials` file.
    public var agentCredentialsPath: String { scratch + "/agent-credentials" }

    /// The `--credential` file of agent slot `slot` (principal `agent-<slot>`).
    public func credentialPath(slot: Int) -> String { scratch + "/agent-\(slot).credential" }

    /// `--credential FILE` for a new agent: each agent started gets the next slot.
    public func agentCredentialArguments(slot: Int? = nil) -> [String] {
        ["--credential", credentialPath(slot: slot ?? agents.count % Self.agentSlots)]
    }

    /// Starts (or restarts, on the port it had) the master and waits until it answers /health.
    public func startMaster() async throws {
        let listenFile = ListenFile.path(in: scratch, name: "master")
        let arguments = [
            "master", "--listen", master.description, "--listen-file", listenFile, "--work-dir", scratch + "/master",
            "--agent-ping-timeout", "500ms", "--max-agent-ping-timeouts", "4", "--allocation-interval", "200ms",
            "--heartbeat-interval", "1secs", "--log-level", "debug", "--agent-credentials", agentCredentialsPath,
        ] + masterFlags
        let process = try CapstanProcess(arguments: arguments, logPath: scratch + "/master-\(UUID().uuidString.prefix(4)).log")
        masterProcess = process
        master = try await ListenFile.address(at: listenFile, of: process)
        try await waitForHealth(master)
    }

    /// Starts an agent (on port 0, or on `port`: an agent restarted for its running executors takes its old port)
    /// and waits until the master lists it.
    @discardableResult
    /// With `netns`, the agent runs in that network namespace (`ip netns exec`), listening on `listenHost`.
    public func startAgent(
        resources: String = "cpus:2;mem:1024;disk:1024;ports:[31000-31099]", attributes: String? = nil, workDir: String? = nil, port: Int? = nil,
        extraArguments: [String] = [], netns: String? = nil, listenHost: String = "127.0.0.1"
    ) async throws -> TestAgent {
        let dir = workDir ?? scratch + "/agent-\(agents.count)"
        let listenFile = ListenFile.path(in: scratch, name: "agent")
        var arguments = [
            "agent", "--master", master.description, "--listen", "\(listenHost):\(port ?? 0)", "--listen-file", listenFile, "--work-dir", dir,
            "--resources", resources, "--executor-registration-timeout", "10secs", "--status-update-retry-interval", "300ms",
            "--log-level", "debug",
        ]
        if !extraArguments.contains("--credential") && !extraArguments.contains("--insecure") {
            // An agent restarted on an earlier agent's work dir keeps that agent's credential (its ID is bound to it).
            if let earlier = agents.last(where: { $0.workDir == dir }), let index = earlier.arguments.firstIndex(of: "--credential") {
                arguments += ["--credential", earlier.arguments[index + 1]]
            } else {
                arguments += agentCredentialArguments()
            }
        }
        if let attributes { arguments += ["--attributes", attributes] }
        arguments += extraArguments
        let before = try await registeredAgentCount()
        let process = try netns.map { namespace in
            try CapstanProcess(
                arguments: ["netns", "exec", namespace, CapstanBinary.path] + arguments, logPath: dir + ".log", executable: "/usr/sbin/ip")
        } ?? CapstanProcess(arguments: arguments, logPath: dir + ".log")
        let endpoint: HostPort
        do {
            endpoint = try await ListenFile.address(at: listenFile, of: process)
        } catch {
            await process.stop()
            throw error
        }
        let agent = TestAgent(endpoint: endpoint, workDir: dir, process: process, arguments: arguments)
        agents.append(agent)
        try await waitForHealth(endpoint)
        try await eventually("agent \(endpoint) registered") { try await self.registeredAgentCount() > before }
        return agent
    }

    /// The number of active agents the master lists.
    public func registeredAgentCount() async throws -> Int {
        guard masterProcess?.isRunning == true else { return 0 }
        let response = try await OperatorClient(master, authorization: operatorAuthorization).call(.getAgents)
        return response.getAgents?.agents.filter { $0.active }.count ?? 0
    }

    /// Stops every process (SIGTERM, then SIGKILL) and removes the scratch directory.
    public func shutdown() async {
        await tearDownFrameworks()
        for agent in agents { await agent.process.stop() }
        // Agents killed with SIGKILL leave their tasks' sessions behind: kill them by the checkpointed pids.
        for agent in agents { Self.killCheckpointedTasks(workDir: agent.workDir) }
        // Every container has cgroups now, command tasks too: remove those that no agent was left to clean up.
        for agent in agents { Self.removeLeftoverCgroups(workDir: agent.workDir) }
        await masterProcess?.stop()
        if ProcessInfo.processInfo.environment["CAPSTAN_KEEP_TEST_DIRS"] == nil {
            try? FileManager.default.removeItem(atPath: scratch)
        }
    }

    /// Tears down every framework through the operator API, so the agents kill their tasks and clean up their
    /// containers (cgroups, mounts) themselves, and waits (at most 5 s) until no agent runs a container. `capstan
    /// agent` leaves tasks running when it stops, so this is what keeps tests from leaving containers behind.
    func tearDownFrameworks() async {
        guard masterProcess?.isRunning == true else { return }
        let operatorAPI = OperatorClient(master, authorization: operatorAuthorization)
        guard let frameworks = try? await operatorAPI.call(.getFrameworks).getFrameworks?.frameworks else { return }
        for framework in frameworks {
            guard let id = framework.frameworkInfo.id else { continue }
            _ = try? await operatorAPI.raw(path: "/api/v1", body: #"{"type":"TEARDOWN","teardown":{"framework_id":{"value":"\#(id.value)"}}}"#)
        }
        let running = agents.filter { $0.process.isRunning }
        try? await eventually("agents' containers gone", timeout: .seconds(5), interval: .milliseconds(50)) {
            for agent in running {
                let containers = try await OperatorClient(agent.endpoint, authorization: operatorAuthorization).agentCall(.getContainers).getContainers?.containers ?? []
                if !containers.isEmpty { return false }
            }
            return true
        }
    }

    /// Kills the process groups recorded in an agent's task checkpoints (by PID, never by name).
    static func killCheckpointedTasks(workDir: String) {
        guard let enumerator = FileManager.default.enumerator(atPath: workDir + "/meta") else { return }
        for case let path as String in enumerator where path.hasSuffix("task.json") {
            guard let data = FileManager.default.contents(atPath: workDir + "/meta/" + path),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let pid = (object["pid"] as? NSNumber)?.int32Value, pid > 1
            else { continue }
            kill(-pid, SIGKILL)
        }
    }

    /// Removes the cgroups of the containers an agent's checkpoints name (task checkpoints and the containerizer's own),
    /// once their processes are gone: an agent stopped or killed with its tasks running leaves them behind.
    static func removeLeftoverCgroups(workDir: String) {
        var ids: Set<String> = []
        let containers = workDir + "/meta/containers"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: containers)) ?? [] where name.hasSuffix(".json") {
            ids.insert(String(name.dropLast(5)))
        }
        if let enumerator = FileManager.default.enumerator(atPath: workDir + "/meta") {
            for case let path as String in enumerator where path.hasSuffix("task.json") {
                guard let data = FileManager.default.contents(atPath: workDir + "/meta/" + path),
                    let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
                else { continue }
                if let id = (object["container_id"] as? [String: Any])?["value"] as? String ?? object["container_id"] as? String {
                    ids.insert(id)
                }
            }
        }
        let roots = ["cpu", "cpuacct", "memory", "pids"].map { "/sys/fs/cgroup/\($0)/capstan" } + ["/sys/fs/cgroup/capstan"]
        for id in ids where !id.isEmpty && !id.contains("/") && !id.hasPrefix(".") {
            for root in roots {
                let path = root + "/" + id
                for _ in 0..<100 {  // EBUSY until the killed processes have exited
                    if rmdir(path) == 0 || errno == ENOENT || errno == ENOTDIR { break }
                    usleep(20_000)
                }
            }
        }
    }

    /// All logs, for failure messages.
    public var logs: String {
        var text = "--- master\n" + (masterProcess?.log ?? "")
        for agent in agents { text += "\n--- agent \(agent.endpoint)\n" + agent.process.log }
        return text
    }

    /// Runs `body` with a started cluster (master and `agents` agents) and always shuts it down.
    public static func with<T>(
        agents: Int = 1, resources: String = "cpus:2;mem:1024;disk:1024;ports:[31000-31099]", masterFlags: [String] = [],
        _ body: (TestCluster) async throws -> T
    ) async throws -> T {
        try await TestCluster(masterFlags: masterFlags).run { cluster in
            try await cluster.startMaster()
            for _ in 0..<agents { try await cluster.startAgent(resources: resources) }
            return try await body(cluster)
        }
    }

    /// Runs `body` on this (not yet started) cluster and always shuts it down; a failure carries the process logs.
    public func run<T>(_ body: (TestCluster) async throws -> T) async throws -> T {
        do {
            let result = try await body(self)
            await shutdown()
            return result
        } catch {
            let logs = self.logs
            await shutdown()
            throw TestFailure("\(error)\n\nProcess logs (last 6000 chars):\n\(logs.suffix(6000))")
        }
    }
}

/// An error carrying process logs.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `timeout` passes.
public func eventually(
    _ what: String, timeout: Duration = .seconds(10), interval: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: interval)
    }
    throw TestFailure("Timed out after \(timeout) waiting for: \(what)")
}

/// Waits until `/health` answers 200.
public func waitForHealth(_ endpoint: HostPort, timeout: Duration = .seconds(20)) async throws {
    try await eventually("\(endpoint)/health", timeout: timeout) {
        try await OperatorClient(endpoint).get("/health").status == 200
    }
}
