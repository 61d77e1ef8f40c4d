import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// Network partitions, made for real: an agent in a network namespace of the test's own, joined to the host by a
    /// veth pair on a private /30 (10.99.x.0/30) whose host end the test takes down and up again.
    @Suite("Fault: partitions", Prerequisites.requires("partition tests", [
        .root("network namespaces and veth pairs need uid 0"),
        .executable("/usr/sbin/ip", "apt-get install iproute2"),
    ]))
    struct PartitionFaultTests {
        /// A namespace and a veth pair; removed (by name, the test's own) when done.
        struct Link {
            let namespace: String
            let hostSide: String
            let hostAddress: String
            let namespaceAddress: String

            static func make() throws -> Link {
                let id = String(UUID().uuidString.prefix(6)).lowercased()
                let subnet = Int.random(in: 10...250)
                let link = Link(namespace: "cappart\(id)", hostSide: "cph\(id)", hostAddress: "10.99.\(subnet).1", namespaceAddress: "10.99.\(subnet).2")
                let inside = "cpn\(id)"
                try Self.ip(["netns", "add", link.namespace])
                try Self.ip(["link", "add", link.hostSide, "type", "veth", "peer", "name", inside])
                try Self.ip(["link", "set", inside, "netns", link.namespace])
                try Self.ip(["addr", "add", link.hostAddress + "/30", "dev", link.hostSide])
                try Self.ip(["link", "set", link.hostSide, "up"])
                try Self.ip(["netns", "exec", link.namespace, "ip", "addr", "add", link.namespaceAddress + "/30", "dev", inside])
                try Self.ip(["netns", "exec", link.namespace, "ip", "link", "set", inside, "up"])
                try Self.ip(["netns", "exec", link.namespace, "ip", "link", "set", "lo", "up"])
                return link
            }

            func cut() throws { try Self.ip(["link", "set", hostSide, "down"]) }
            func heal() throws { try Self.ip(["link", "set", hostSide, "up"]) }

            func remove() {
                _ = try? Self.ip(["link", "del", hostSide])
                _ = try? Self.ip(["netns", "del", namespace])
            }

            static func ip(_ arguments: [String]) throws {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
                process.arguments = arguments
                process.standardOutput = FileHandle.nullDevice
                let errors = Pipe()
                process.standardError = errors
                try process.run()
                process.waitUntilExit()
                guard process.terminationStatus == 0 else {
                    let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                    throw TestFailure("ip \(arguments.joined(separator: " ")): \(text)")
                }
            }
        }

        @Test("Fault: an agent cut off from the master keeps its task, is marked unreachable, the app is replaced elsewhere; healed, the surplus is killed and exactly one runs")
        func cutAgentIsReplacedAndHealedToExactlyInstances() async throws {
            let link = try Link.make()
            defer { link.remove() }
            try await TestCluster(
                masterFlags: ["--insecure", "--agent-ping-timeout", "500ms", "--max-agent-ping-timeouts", "4"], masterHost: link.hostAddress
            ).run { cluster in
                try await cluster.startMaster()
                // The agent in the namespace: it reaches the master only over the veth.
                let far = try await cluster.startAgent(
                    resources: "cpus:1;mem:512;disk:256;ports:[31000-31009]",
                    extraArguments: ["--insecure", "--credential", cluster.credentialPath(slot: 0)],
                    netns: link.namespace, listenHost: link.namespaceAddress)
                let f = try await GitOpsFixture(cluster: cluster)
                do {
                    try await f.commit(["web.yaml": GitOpsFixture.app("web", instances: 1)])
                    try await f.startReconciler()
                    try await f.waitSynced("web")
                    let before = try await f.tasks(of: "web")
                    #expect(before.count == 1)
                    let original = try #require(before.first)
                    let farID = original.agentID
                    // A second agent on the host, where the replacement goes.
                    try await cluster.startAgent(resources: "cpus:1;mem:512;disk:256;ports:[31010-31019]", extraArguments: ["--credential", cluster.credentialPath(slot: 1)])

                    try link.cut()
                    try await eventually("the task is replaced on the other agent", timeout: .seconds(40)) {
                        try await f.tasks(of: "web").contains { $0.agentID != farID && $0.state == .taskRunning }
                    }
                    let agents = try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents ?? []
                    #expect(!agents.contains { $0.agentInfo.id == farID }, "the cut agent is not listed as active")
                    // The cut agent still runs the original task: partitions do not kill.
                    let stillThere = try await Self.agentTasks(far.endpoint, namespace: link.namespace)
                    #expect(stillThere.contains(original.taskID.value), "\(stillThere)")

                    try link.heal()
                    try await eventually("the healed agent is back and its stale task killed", timeout: .seconds(40)) {
                        let listed = try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents ?? []
                        guard listed.contains(where: { $0.agentInfo.id == farID }) else { return false }
                        let running = try await f.tasks(of: "web")
                        return running.count == 1 && running.allSatisfy { $0.agentID != farID }
                    }
                    try await Task.sleep(for: .seconds(3))
                    let after = try await f.tasks(of: "web")
                    let onFar = try await Self.agentTasks(far.endpoint, namespace: link.namespace)
                    print(
                        "fault partition: tasks before 1, after heal \(after.count) (on the healed agent \(after.filter { $0.agentID == farID }.count)), "
                            + "original still on its agent: \(onFar.contains(original.taskID.value)), duplicated \(max(0, after.count - 1))")
                    #expect(after.count == 1, "exactly one instance: \(after.map(\.taskID))")
                    #expect(!onFar.contains(original.taskID.value), "the stale original is killed once the agent is back")
                    try await f.waitSynced("web", timeout: .seconds(30))
                } catch {
                    let log = f.reconciler?.log ?? ""
                    await f.reconciler?.stop()
                    throw TestFailure("\(error)\n--- reconciler (last 4000 chars)\n\(log.suffix(4000))")
                }
                await f.reconciler?.stop()
            }
        }

        /// The IDs of the tasks the agent itself runs and has not ended (its operator API GET_TASKS), asked from inside
        /// its namespace, so that the answer comes while the link is cut too.
        static func agentTasks(_ agent: HostPort, namespace: String) async throws -> [String] {
            let body = HostCommand.output("/usr/sbin/ip", [
                "netns", "exec", namespace, "curl", "-s", "-m", "5", "-H", "Content-Type: application/json", "-d", #"{"type":"GET_TASKS"}"#,
                "http://\(agent)/api/v1",
            ])
            let response = try MesosJSON.decode(AgentOperatorResponse.self, from: Data(body.utf8))
            let tasks = response.getTasks?.launchedTasks ?? []
            return tasks.filter { !$0.state.isTerminal }.map(\.taskID.value)
        }
    }
}
