import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// Tasks on CNI networks through the master: a bridge network of the test's own (its bridge, a private /24 in
    /// 10.99.0.0/16, leases in its scratch dir) with Debian's bridge, host-local and portmap plugins.
    @Suite("Tasks on CNI networks", Prerequisites.requires("CNI task tests", [
        .root("network namespaces, bridges and iptables need uid 0"),
        .executable("/usr/lib/cni/bridge", "apt-get install containernetworking-plugins"),
        .executable("/usr/sbin/iptables", "apt-get install iptables"),
        .executable("/usr/bin/python3", "apt-get install python3"),
    ]))
    struct CNITaskTests {
        struct Network {
            let scratch: String
            let name: String
            let bridge: String
            let prefix: String
            var configDirectory: String { scratch + "/config" }
            var pluginDirectory: String { scratch + "/plugins" }
            /// The agent's flags for this network.
            var agentFlags: [String] {
                ["--network-cni-config-dir", configDirectory, "--network-cni-plugins-dir", pluginDirectory + ":/usr/lib/cni"]
            }
            /// `CNI_COMMAND CNI_CONTAINERID` of every call of the bridge plugin, one per line.
            var callLog: String { scratch + "/calls.log" }

            func calls(_ command: String, _ containerID: ContainerID) -> Int {
                ((try? String(contentsOfFile: callLog, encoding: .utf8)) ?? "").split(separator: "\n").filter { $0 == "\(command) \(containerID.value)" }.count
            }
            var leases: String { scratch + "/leases" }

            func leased() -> [String] {
                ((try? FileManager.default.contentsOfDirectory(atPath: leases + "/" + name)) ?? []).filter { $0.hasPrefix(prefix) }
            }

            func bridgePorts() -> [String] {
                HostCommand.output("/usr/sbin/ip", ["-o", "link", "show", "master", bridge]).split(separator: "\n").map(String.init)
            }
        }

        static func withNetwork(_ body: (Network) async throws -> Void) async throws {
            let id = String(UUID().uuidString.prefix(6)).lowercased()
            let network = Network(
                scratch: "/tmp/capstan-cni-\(id)", name: "e2e-\(id)", bridge: "capi\(id)", prefix: "10.99.\(Int.random(in: 101...200)).")
            for directory in [network.configDirectory, network.pluginDirectory] {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            // Debian's bridge plugin behind a wrapper that logs each call.
            try "#!/bin/sh\necho \"$CNI_COMMAND $CNI_CONTAINERID\" >> \(network.callLog)\nexec /usr/lib/cni/bridge\n".write(
                toFile: network.pluginDirectory + "/logged-bridge", atomically: true, encoding: .utf8)
            chmod(network.pluginDirectory + "/logged-bridge", 0o755)
            try """
                {"cniVersion": "1.0.0", "name": "\(network.name)", "plugins": [
                  {"type": "logged-bridge", "bridge": "\(network.bridge)", "isGateway": true, "ipMasq": false,
                   "ipam": {"type": "host-local", "dataDir": "\(network.leases)", "ranges": [[{"subnet": "\(network.prefix)0/24"}]]}},
                  {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true}
                ]}
                """.write(toFile: network.configDirectory + "/10-e2e.conflist", atomically: true, encoding: .utf8)
            let hadPortmapChains = PortmapChains.exist()
            defer {
                HostCommand.output("/usr/sbin/ip", ["link", "del", network.bridge])
                try? FileManager.default.removeItem(atPath: network.scratch)
                if !hadPortmapChains { PortmapChains.remove() }
            }
            try await body(network)
        }

        /// A master and an agent with `network`'s flags, a subscribed scheduler and its first offer; the scheduler is
        /// disconnected and the cluster stopped however `body` ends.
        static func withAgent(
            on network: Network, _ body: (TestCluster, EventRecorder, Offer) async throws -> Void
        ) async throws {
            try await TestCluster().run { cluster in
                try await cluster.startMaster()
                try await cluster.startAgent(extraArguments: network.agentFlags)
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await body(cluster, scheduler, offer)
                await scheduler.disconnect()
            }
        }

        static func task(_ id: String, _ shell: String, agent: AgentID, network: String, hostPort: UInt32? = nil, offeredPort: Int? = nil) -> TaskInfo {
            var task = TestTasks.command(id, shell, agent: agent)
            if let offeredPort {
                task.resources += Resources([.ranges("ports", [ValueRange(begin: UInt64(offeredPort), end: UInt64(offeredPort))])]).mesos
            }
            var container = ContainerInfo(type: .mesos)
            container.networkInfos = [
                NetworkInfo(name: network, portMappings: hostPort.map { [NetworkInfo.PortMapping(hostPort: $0, containerPort: 8080, protocol: "tcp")] } ?? [])
            ]
            task.container = container
            return task
        }

        @Test("A command task on a CNI network: TASK_RUNNING carries its IP; its server answers on that IP, on its host port through portmap and to its HTTP health check; after a kill no veth, lease or portmap rule is left")
        func commandTaskOnANetwork() async throws {
            try await Self.withNetwork { network in
                try await Self.withAgent(on: network) { cluster, scheduler, offer in
                    let hostPort = 31000 + Int.random(in: 0...99)
                    try FileManager.default.createDirectory(atPath: network.scratch + "/www", withIntermediateDirectories: true)
                    try "served-over-cni\n".write(toFile: network.scratch + "/www/index.html", atomically: true, encoding: .utf8)
                    let server = Self.task(
                        "web", "exec /usr/bin/python3 -m http.server 8080 --bind \"$(hostname -i)\" --directory \(network.scratch)/www",
                        agent: offer.agentID, network: network.name, hostPort: UInt32(hostPort), offeredPort: hostPort)
                    // Bound to its own address only (from its /etc/hosts): the health check must reach it there.
                    var withCheck = server
                    withCheck.healthCheck = HealthCheck(
                        type: .http, http: .init(port: 8080, path: "/"), delaySeconds: 0, intervalSeconds: 0.3, timeoutSeconds: 2,
                        gracePeriodSeconds: 20)
                    try await scheduler.launch([withCheck], on: [offer])
                    let running = try await scheduler.update("web", .taskRunning, timeout: .seconds(20))
                    let infos = running.containerStatus?.networkInfos ?? []
                    #expect(infos.map(\.name) == [network.name])
                    let ip = try #require(infos.first?.ipAddresses.first?.ipAddress, "TASK_RUNNING names the task's IP: \(infos)")
                    #expect(ip.hasPrefix(network.prefix) && infos.first?.ipAddresses.first?.protocol == .ipv4)
                    #expect(infos.first?.portMappings.first?.hostPort == UInt32(hostPort))
                    let containerID = try #require(running.containerStatus?.containerID)

                    try await eventually("the server answers on the task's IP", timeout: .seconds(15)) {
                        HostCommand.output("/usr/bin/curl", ["-s", "-m", "2", "http://\(ip):8080/"]).contains("served-over-cni")
                    }
                    try await eventually("the server answers on its host port", timeout: .seconds(15)) {
                        HostCommand.output("/usr/bin/curl", ["-s", "-m", "2", "http://127.0.0.1:\(hostPort)/"]).contains("served-over-cni")
                    }
                    #expect(HostCommand.output("/usr/sbin/iptables-save", ["-t", "nat"]).contains(containerID.value), "portmap tagged its rules with the container")
                    #expect(network.leased() == [ip])
                    // The agent's state lists the container's attachment.
                    let containers = try await OperatorClient(cluster.agents[0].endpoint).agentCall(.getContainers).getContainers?.containers ?? []
                    let listed = containers.first { $0.containerID == containerID }?.containerStatus?.networkInfos ?? []
                    #expect(listed.map(\.name) == [network.name] && listed.first?.ipAddresses.first?.ipAddress == ip, "GET_CONTAINERS: \(listed)")
                    let healthy = try await scheduler.any("TASK_RUNNING healthy=true for web", timeout: .seconds(20)) {
                        $0.update?.status.taskID == "web" && $0.update?.status.healthy == true
                    }
                    #expect(healthy.update?.status.containerStatus?.networkInfos.first?.ipAddresses.first?.ipAddress == ip)

                    try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: "web")))
                    try await scheduler.update("web", .taskKilled, timeout: .seconds(15))
                    try await eventually("the attachment is gone", timeout: .seconds(10)) {
                        network.leased().isEmpty && network.bridgePorts().isEmpty
                    }
                    #expect(!HostCommand.output("/usr/sbin/iptables-save", ["-t", "nat"]).contains(containerID.value), "portmap rules left behind")
                }
            }
        }

        @Test("SIGKILL the agent, the networked task ends while it is down, restart the agent: the attachment is DELeted once with the journalled config, its lease freed, its namespace handle unmounted")
        func attachmentOfATaskEndedWhileTheAgentWasDownIsDeletedOnce() async throws {
            try await Self.withNetwork { network in
                try await AgentRecoveryTests.withRecoveringAgent("cni", extraArguments: network.agentFlags) { agent in
                    let scheduler: EventRecorder = agent.scheduler
                    let task = Self.task(
                        "netted", "while [ ! -e \"$MESOS_SANDBOX/release\" ]; do sleep 0.05; done; exit 0", agent: agent.offer.agentID,
                        network: network.name)
                    try await scheduler.launch([task], on: [agent.offer])
                    let running = try await scheduler.update("netted", .taskRunning, timeout: .seconds(20))
                    let containerID = try #require(running.containerStatus?.containerID)
                    #expect(network.leased().count == 1 && network.calls("ADD", containerID) == 1)
                    let containers = try await agent.containers()
                    let sandboxes = try await agent.sandboxes()

                    agent.crash()
                    // The operator removes the network meanwhile: teardown still uses what ADD used.
                    try FileManager.default.removeItem(atPath: network.configDirectory + "/10-e2e.conflist")
                    for sandbox in sandboxes { FileManager.default.createFile(atPath: sandbox + "/release", contents: Data()) }
                    for pid in containers.values where pid > 0 {
                        try await eventually("pid \(pid) exited while the agent is down") { kill(pid, 0) != 0 }
                    }
                    try await agent.restart()
                    try await scheduler.update("netted", .taskFinished, timeout: .seconds(20))
                    try await eventually("the attachment was deleted", timeout: .seconds(10)) {
                        network.leased().isEmpty && network.bridgePorts().isEmpty
                    }
                    try await Task.sleep(for: .milliseconds(500))
                    #expect(network.calls("DEL", containerID) == 1, "DEL once: \((try? String(contentsOfFile: network.callLog, encoding: .utf8)) ?? "")")
                    try await agent.expectNothingLeft(containers: Array(containers.keys))
                    #expect(!FileManager.default.fileExists(atPath: agent.workDir + "/network/attachments/\(containerID.value)"), "journal left")
                }
            }
        }

        @Test("Through git: an app on a CNI network converges and its health check passes on the container's IP; capstan diff says an app on a network no agent has will not fit")
        func gitOpsAppOnANetwork() async throws {
            try await Self.withNetwork { network in
                try FileManager.default.createDirectory(atPath: network.scratch + "/www", withIntermediateDirectories: true)
                try "served-by-gitops\n".write(toFile: network.scratch + "/www/index.html", atomically: true, encoding: .utf8)
                try await GitOpsFixture.with(agentArguments: network.agentFlags) { fixture in
                    let manifest = GitOpsFixture.app(
                        "web", instances: 1,
                        command: "exec /usr/bin/python3 -m http.server 8080 --bind $(hostname -i) --directory \(network.scratch)/www",
                        extra: """

                              network: {name: \(network.name), ports: [{name: http, container: 8080}]}
                              health: {http: {port: http, path: /}, interval: 1s, timeout: 1s, gracePeriod: 20s, maxFailures: 3}
                            """,
                        resources: "{cpus: 0.2, mem: 64Mi}")
                    try await fixture.commit(["apps/web.yaml": manifest], "web on \(network.name)")
                    try await fixture.startReconciler()
                    try await fixture.waitSynced("web", timeout: .seconds(40))
                    let task = try #require(try await fixture.tasks(of: "web").first)
                    let status = try #require(task.statuses.last { $0.state == .taskRunning && $0.healthy == true }, "a healthy TASK_RUNNING: \(task.statuses)")
                    let ip = try #require(status.containerStatus?.networkInfos.first?.ipAddresses.first?.ipAddress)
                    #expect(ip.hasPrefix(network.prefix) && status.containerStatus?.networkInfos.first?.name == network.name)
                    #expect(HostCommand.output("/usr/bin/curl", ["-s", "-m", "2", "http://\(ip):8080/"]).contains("served-by-gitops"))

                    // An app on a network no agent has: the diff against the live cluster says it will not fit.
                    try await fixture.commit(
                        ["apps/lost.yaml": GitOpsFixture.app("lost", instances: 1, extra: "\n  network: {name: nosuchnet}")], "lost")
                    let diff = try await DiffCommandTests.diff(["--repo", fixture.repo, "--master", fixture.cluster.master.description])
                    #expect(diff.stdout.contains("no agent has network 'nosuchnet'"), "\(diff.stdout)\(diff.stderr)")
                }
            }
        }

        @Test("capstan bench network times both sides and leaves no bridge, lease or namespace behind")
        func benchNetworkRunsAndCleansUp() async throws {
            let bridge = "capbt\(String(UUID().uuidString.prefix(6)).lowercased())"
            let hadPortmapChains = PortmapChains.exist()
            defer { if !hadPortmapChains { PortmapChains.remove() } }
            let run = try await ValidateCommandTests.capstan(["bench", "network", "--runs", "2", "--bridge", bridge, "--subnet", "10.99.251.0/24"])
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output.contains("capstan network/cni: 2 runs") && run.output.contains("plugins directly:    2 runs"), "\(run.output)")
            #expect(run.output.contains("ratio capstan/direct: mean "), "\(run.output)")
            #expect(HostCommand.output("/usr/sbin/ip", ["-o", "link", "show", bridge]).isEmpty, "the bench's bridge is gone")
            #expect(!HostCommand.output("/usr/sbin/iptables-save", ["-t", "nat"]).contains("bench-"), "no portmap rule of the bench is left")
        }

        @Test("capstan up has the built-in 'capstan' network with no configuration file: the agent advertises it, a task on it gets an address there, and its lease is freed after a kill")
        func upHasTheBuiltInNetwork() async throws {
            let id = String(UUID().uuidString.prefix(6)).lowercased()
            let scratch = "/tmp/capstan-up-net-\(id)", bridge = "capu\(id)"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            let leaseRoot = "/run/capstan", hadLeaseRoot = FileManager.default.fileExists(atPath: leaseRoot)
            defer {
                HostCommand.output("/usr/sbin/ip", ["link", "del", bridge])
                try? FileManager.default.removeItem(atPath: scratch)
                if !hadLeaseRoot { try? FileManager.default.removeItem(atPath: leaseRoot) }  // host-local's lock and last-IP files
            }
            let (masterFile, agentFile) = (scratch + "/master.listen", scratch + "/agent.listen")
            // The subnet is the test's own; without --default-network-subnet capstan up takes 172.26.64.0/20.
            let up = try CapstanProcess(
                arguments: [
                    "up", "--listen", "127.0.0.1:0", "--listen-file", masterFile, "--agent-listen", "127.0.0.1:0", "--agent-listen-file", agentFile,
                    "--work-dir", scratch + "/wd", "--resources", "cpus:1;mem:256;disk:256;ports:[31000-31001]",
                    "--default-network-subnet", "10.99.202.0/24", "--default-network-bridge", bridge,
                ], logPath: scratch + "/up.log")
            do {
                let master = try await ListenFile.address(at: masterFile, of: up)
                let agentEndpoint = try await ListenFile.address(at: agentFile, of: up)
                try await eventually("agent registered") { try await OperatorClient(master).call(.getAgents).getAgents?.agents.count == 1 }
                let agents = try await OperatorClient(master).call(.getAgents).getAgents?.agents ?? []
                let advertised = agents.first?.agentInfo.attributes.first { $0.name == "cni_networks" }?.text?.value
                #expect(advertised == "capstan", "\(agents.first?.agentInfo.attributes ?? [])")
                let flags = try await OperatorClient(agentEndpoint).agentCall(.getFlags).getFlags?.flags ?? []
                #expect(flags.first { $0.name == "default_network_subnet" }?.value == "10.99.202.0/24 (bridge \(bridge))")

                let scheduler = try await EventRecorder.subscribe(master)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch([Self.task("boxed", "exec sleep 300", agent: offer.agentID, network: "capstan")], on: [offer])
                let running = try await scheduler.update("boxed", .taskRunning, timeout: .seconds(20))
                let ip = try #require(running.containerStatus?.networkInfos.first?.ipAddresses.first?.ipAddress)
                #expect(ip.hasPrefix("10.99.202."))
                let leases = "/run/capstan/cni/\(bridge)/leases/capstan"
                #expect(FileManager.default.fileExists(atPath: leases + "/" + ip), "the lease is on tmpfs")
                try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: "boxed")))
                try await scheduler.update("boxed", .taskKilled, timeout: .seconds(15))
                try await eventually("the lease is freed") { !FileManager.default.fileExists(atPath: leases + "/" + ip) }
                await scheduler.disconnect()
                await up.stop(signal: SIGINT, timeout: .seconds(15))
            } catch {
                await up.stop(signal: SIGKILL)
                throw TestFailure("\(error)\n\(up.log.suffix(4000))")
            }
        }

        @Test("A network added to or removed from the configuration directory is advertised in cni_networks from the next heartbeat on; the offers made before are rescinded")
        func advertisedNetworksFollowTheConfigurationDirectory() async throws {
            try await Self.withNetwork { network in
                try await Self.withAgent(on: network) { cluster, scheduler, offer in
                    func advertised(_ offer: Offer) -> String? { offer.attributes.first { $0.name == "cni_networks" }?.text?.value }
                    #expect(advertised(offer) == network.name)
                    let extra = "extra-\(network.name.dropFirst(4))"
                    try """
                        {"cniVersion": "1.0.0", "name": "\(extra)", "type": "bridge", "bridge": "\(network.bridge)x",
                         "ipam": {"type": "host-local", "dataDir": "\(network.leases)", "ranges": [[{"subnet": "\(network.prefix)0/24"}]]}}
                        """.write(toFile: network.configDirectory + "/20-extra.conf", atomically: true, encoding: .utf8)
                    try await scheduler.next("RESCIND of the offer made before") { $0.type == .rescind && $0.rescind?.offerID == offer.id }
                    let both = try await scheduler.next("an offer advertising \(extra)") { event in
                        event.offers?.offers.contains { advertised($0) == [extra, network.name].sorted().joined(separator: ",") } ?? false
                    }
                    let current = try #require(both.offers?.offers.first)
                    let agents = try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents ?? []
                    #expect(agents.first?.agentInfo.attributes.first { $0.name == "cni_networks" }?.text?.value == [extra, network.name].sorted().joined(separator: ","))

                    try FileManager.default.removeItem(atPath: network.configDirectory + "/20-extra.conf")
                    try await scheduler.next("RESCIND after the removal") { $0.type == .rescind && $0.rescind?.offerID == current.id }
                    try await scheduler.next("an offer advertising \(network.name) alone") { event in
                        event.offers?.offers.contains { advertised($0) == network.name } ?? false
                    }
                }
            }
        }

        @Test("A task naming an unknown network, a host port outside its ports resource, or an address that is none, is TASK_ERROR naming what is wrong")
        func badNetworkRequestsAreTaskErrors() async throws {
            try await Self.withNetwork { network in
                try await Self.withAgent(on: network) { cluster, scheduler, offer in
                    let unknown = Self.task("lost", "sleep 60", agent: offer.agentID, network: "nosuchnet")
                    let unoffered = Self.task("greedy", "sleep 60", agent: offer.agentID, network: network.name, hostPort: 80)
                    var badAddress = Self.task("misaddressed", "sleep 60", agent: offer.agentID, network: network.name)
                    badAddress.container?.networkInfos[0].ipAddresses = [NetworkInfo.IPAddress(ipAddress: "10.99.300.1/24")]
                    try await scheduler.launch([unknown, unoffered, badAddress], on: [offer])
                    let misaddressed = try await scheduler.update("misaddressed", .taskError)
                    #expect(misaddressed.message?.contains("task.container.network_infos[0].ip_addresses[0].ip_address '10.99.300.1/24' is not an IP address") == true, "\(misaddressed.message ?? "")")
                    let lost = try await scheduler.update("lost", .taskError)
                    #expect(lost.message?.contains("Unknown CNI network 'nosuchnet' (networks on this agent: \(network.name))") == true, "\(lost.message ?? "")")
                    #expect(lost.reason == .reasonTaskInvalid)
                    let greedy = try await scheduler.update("greedy", .taskError)
                    #expect(greedy.message?.contains("task.container.network_infos[0].port_mappings[0].host_port 80 is not in the task's ports resources") == true, "\(greedy.message ?? "")")
                    #expect(network.leased().isEmpty)
                }
            }
        }
    }
}
