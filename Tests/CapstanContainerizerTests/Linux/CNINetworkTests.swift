import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc
import Testing

/// A bridge network of the test's own (a bridge it names, a private /24 in 10.99.0.0/16, host-local leases in its
/// scratch dir), used through Debian's containernetworking-plugins; the bridge is deleted at the end.
struct CNITestNetwork {
    let fixture: LinuxFixture
    let name: String
    let bridge: String
    let subnet: Int
    var configDirectory: String { fixture.base + "/cni-config" }
    var pluginDirectory: String { fixture.base + "/cni-plugins" }
    var leases: String { fixture.base + "/ipam" }
    var runDirectory: String { fixture.base + "/cni-run" }
    var prefix: String { "10.99.\(subnet)." }

    static let debianPlugins = "/usr/lib/cni"
    static var prerequisites: [Prerequisite] {
        LinuxPrerequisites.all + [
            .executable(debianPlugins + "/bridge", "apt-get install containernetworking-plugins"),
            .executable("/usr/sbin/ip", "apt-get install iproute2"),
        ]
    }

    static func with<T>(_ body: (CNITestNetwork) async throws -> T) async throws -> T {
        try Prerequisites.require(prerequisites)
        return try await LinuxFixture.with { fixture in
            let network = CNITestNetwork(
                fixture: fixture, name: "capt-\(fixture.testID)", bridge: "capb\(fixture.testID.prefix(6))", subnet: Int.random(in: 1...99))
            for directory in [network.configDirectory, network.pluginDirectory, network.leases, network.runDirectory] {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            try network.writeConfig()
            defer { _ = HostCommand.output("/usr/sbin/ip", ["link", "del", network.bridge]) }
            return try await body(network)
        }
    }

    func writeConfig(file: String? = nil, name: String? = nil) throws {
        let config = """
            {"cniVersion": "1.0.0", "name": "\(name ?? self.name)", "plugins": [
              {"type": "bridge", "bridge": "\(bridge)", "isGateway": true, "ipMasq": false,
               "dns": {"nameservers": ["\(prefix)53"], "search": ["capstan.test"]},
               "ipam": {"type": "host-local", "dataDir": "\(leases)", "ranges": [[{"subnet": "\(prefix)0/24"}]]}}
            ]}
            """
        try config.write(toFile: configDirectory + "/" + (file ?? "10-\(name ?? self.name).conflist"), atomically: true, encoding: .utf8)
    }

    /// A plugin that fails every ADD with a CNI error and succeeds at everything else.
    func writeFailingPlugin(_ type: String, message: String) throws {
        let script = """
            #!/bin/sh
            cat >/dev/null
            case "$CNI_COMMAND" in
              VERSION) echo '{"cniVersion":"1.0.0","supportedVersions":["0.3.1","0.4.0","1.0.0"]}' ;;
              ADD) echo '{"cniVersion":"1.0.0","code":11,"msg":"\(message)"}'; exit 1 ;;
              *) echo '{}' ;;
            esac
            """
        let path = pluginDirectory + "/" + type
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
    }

    /// ADD through a conflist's plugins by hand (the bridge, then portmap with a host port), as a runtime other than the
    /// isolator under test would.
    func attachByHand(_ containerID: String, config: String, netns: String, hostPort: Int) async throws {
        let list = try #require(try JSONSerialization.jsonObject(with: Data(config.utf8)) as? [String: Any])
        let runner = CNIPluginRunner(pluginDirectories: [Self.debianPlugins])
        var previous: Any?
        for var plugin in (list["plugins"] as? [[String: Any]]) ?? [] {
            plugin["name"] = list["name"]
            plugin["cniVersion"] = list["cniVersion"]
            if let previous { plugin["prevResult"] = previous }
            if plugin["type"] as? String == "portmap" {
                plugin["runtimeConfig"] = ["portMappings": [["hostPort": hostPort, "containerPort": 8080, "protocol": "tcp"]]]
            }
            let output = try await runner.run(
                plugin["type"] as? String ?? "", network: list["name"] as? String ?? "",
                CNIPluginCall(command: "ADD", containerID: containerID, netns: netns, interface: "eth0", stdin: try JSONSerialization.data(withJSONObject: plugin)))
            previous = try JSONSerialization.jsonObject(with: output)
        }
    }

    /// DEL by hand, in reverse (portmap with a mapping so that it removes its rules).
    func deleteByHand(_ containerID: String, config: String, netns: String) async throws {
        let list = try #require(try JSONSerialization.jsonObject(with: Data(config.utf8)) as? [String: Any])
        let runner = CNIPluginRunner(pluginDirectories: [Self.debianPlugins])
        for var plugin in ((list["plugins"] as? [[String: Any]]) ?? []).reversed() {
            plugin["name"] = list["name"]
            plugin["cniVersion"] = list["cniVersion"]
            if plugin["type"] as? String == "portmap" {
                plugin["runtimeConfig"] = ["portMappings": [["hostPort": 1, "containerPort": 1, "protocol": "tcp"]]]
            }
            _ = try await runner.run(
                plugin["type"] as? String ?? "", network: list["name"] as? String ?? "",
                CNIPluginCall(command: "DEL", containerID: containerID, netns: netns, interface: "eth0", stdin: try JSONSerialization.data(withJSONObject: plugin)))
        }
    }

    func isolator() -> CNINetworkIsolator {
        CNINetworkIsolator(
            configDirectories: [configDirectory], pluginDirectories: [pluginDirectory, Self.debianPlugins], runDirectory: runDirectory,
            logger: quietLogger)
    }

    func containerizer(_ isolator: CNINetworkIsolator) -> Containerizer {
        let launcher = fixture.launcher()
        return Containerizer(launcher: launcher, rootfsLauncher: launcher, isolators: [isolator], logger: quietLogger)
    }

    func config(_ shell: String, networks: [String], sandbox: String, hostname: String? = nil) throws -> ContainerConfig {
        try FileManager.default.createDirectory(atPath: sandbox, withIntermediateDirectories: true)
        var config = fixture.config(shell, hostname: hostname)
        config.sandboxDirectory = sandbox
        config.networks = networks.map { ContainerNetwork(name: $0) }
        return config
    }

    /// Interfaces enslaved to the test's bridge (the host ends of containers' veths).
    func bridgePorts() -> [String] {
        HostCommand.output("/usr/sbin/ip", ["-o", "link", "show", "master", bridge]).split(separator: "\n").map(String.init)
    }

    /// IP addresses host-local holds leases for on this network.
    func leasedAddresses() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: leases + "/" + name)) ?? []).filter { $0.hasPrefix(prefix) }
    }

}

@Suite("CNI networks (privileged, Debian's plugins)", .serialized, Prerequisites.requires("CNI network tests", CNITestNetwork.prerequisites))
struct CNINetworkTests {
    @Test("Two containers on one bridge network reach each other over TCP by IP; /etc/hosts, hostname and resolv.conf come from the result; after destroy no veth, lease or namespace handle is left")
    func twoContainersTalkAndNothingLeaks() async throws {
        try await CNITestNetwork.with { network in
            let isolator = network.isolator()
            let containerizer = network.containerizer(isolator)
            let server = try network.config(
                "while true; do echo hello-over-cni | nc -l -p 8080; done",
                networks: [network.name], sandbox: network.fixture.base + "/server")
            try await containerizer.launch(server)
            let serverNetworks = await containerizer.networks(of: server.containerID)
            let serverIP = try #require(serverNetworks.first?.ipAddresses.first)
            #expect(serverNetworks.map(\.interface) == ["eth0"] && serverIP.hasPrefix(network.prefix), "\(serverNetworks)")

            let clientSandbox = network.fixture.base + "/client"
            let client = try network.config(
                """
                cat /etc/hosts /etc/hostname /etc/resolv.conf; ip -o -4 addr show eth0
                for i in $(seq 1 50); do nc -w 2 \(serverIP) 8080 </dev/null | grep hello && break; sleep 0.1; done 2>&1 | tail -3
                echo done; sleep 600
                """, networks: [network.name], sandbox: clientSandbox, hostname: "client-host")
            try await containerizer.launch(client)
            let clientIP = try #require(await containerizer.networks(of: client.containerID).first?.ipAddresses.first)
            #expect(clientIP != serverIP && clientIP.hasPrefix(network.prefix))
            try await eventually("the client fetched the page", timeout: .seconds(20)) {
                ((try? String(contentsOfFile: clientSandbox + "/stdout", encoding: .utf8)) ?? "").contains("done")
            }
            let output = try String(contentsOfFile: clientSandbox + "/stdout", encoding: .utf8)
            #expect(output.contains("hello-over-cni"), "the page over the network: \(output)")
            #expect(output.contains("127.0.0.1 localhost") && output.contains("\(clientIP) client-host"), "\(output)")
            #expect(output.contains("\nclient-host\n"), "hostname: \(output)")
            #expect(output.contains("nameserver \(network.prefix)53") && output.contains("search capstan.test"), "\(output)")
            #expect(output.contains("inet \(clientIP)/24"), "\(output)")
            #expect(network.bridgePorts().count == 2)
            #expect(network.leasedAddresses().sorted() == [clientIP, serverIP].sorted())

            for id in [client.containerID, server.containerID] { _ = await containerizer.destroy(id, gracePeriod: .zero) }
            #expect(network.bridgePorts().isEmpty, "veths left: \(network.bridgePorts())")
            #expect(network.leasedAddresses().isEmpty, "leases left: \(network.leasedAddresses())")
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: network.runDirectory)) ?? []).isEmpty, "journal left")
        }
    }

    @Test("A container on two networks has eth0 on the first and eth1 on the second, an address on each")
    func twoNetworksTwoInterfaces() async throws {
        try await CNITestNetwork.with { network in
            let second = "capu-\(network.fixture.testID)", bridge = "capc\(network.fixture.testID.prefix(6))"
            let subnet = network.subnet + 1  // 2...100: this suite keeps to 10.99.1-100 (the end-to-end ones use 101-200 and 251)
            try """
                {"cniVersion": "0.4.0", "name": "\(second)", "plugins": [
                  {"type": "bridge", "bridge": "\(bridge)", "isGateway": true,
                   "ipam": {"type": "host-local", "dataDir": "\(network.leases)", "ranges": [[{"subnet": "10.99.\(subnet).0/24"}]]}}]}
                """.write(toFile: network.configDirectory + "/20-second.conflist", atomically: true, encoding: .utf8)
            defer { HostCommand.output("/usr/sbin/ip", ["link", "del", bridge]) }
            let containerizer = network.containerizer(network.isolator())
            let sandbox = network.fixture.base + "/two"
            let config = try network.config("ip -o -4 addr show; sleep 600", networks: [network.name, second], sandbox: sandbox)
            try await containerizer.launch(config)
            let attachments = await containerizer.networks(of: config.containerID)
            #expect(attachments.map(\.network) == [network.name, second])
            #expect(attachments.map(\.interface) == ["eth0", "eth1"])
            let first = try #require(attachments.first?.ipAddresses.first), other = try #require(attachments.last?.ipAddresses.first)
            #expect(first.hasPrefix(network.prefix) && other.hasPrefix("10.99.\(subnet)."))
            try await eventually("the task listed its interfaces") {
                ((try? String(contentsOfFile: sandbox + "/stdout", encoding: .utf8)) ?? "").contains("eth1")
            }
            let output = try String(contentsOfFile: sandbox + "/stdout", encoding: .utf8)
            #expect(output.contains("eth0    inet \(first)/24") && output.contains("eth1    inet \(other)/24"), "\(output)")
            _ = await containerizer.destroy(config.containerID, gracePeriod: .zero)
            #expect(network.leasedAddresses().isEmpty)
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: network.leases + "/" + second)) ?? []).filter { $0.hasPrefix("10.") }.isEmpty)
        }
    }

    @Test("An address and a MAC asked for reach plugins that declare the ips and mac capabilities (runtimeConfig)")
    func requestedAddressAndMAC() async throws {
        try await CNITestNetwork.with { network in
            let name = "capr-\(network.fixture.testID)"
            try """
                {"cniVersion": "1.0.0", "name": "\(name)", "plugins": [
                  {"type": "bridge", "bridge": "\(network.bridge)", "isGateway": true, "capabilities": {"ips": true, "mac": true},
                   "ipam": {"type": "host-local", "dataDir": "\(network.leases)", "ranges": [[{"subnet": "\(network.prefix)0/24"}]]}}]}
                """.write(toFile: network.configDirectory + "/30-requested.conflist", atomically: true, encoding: .utf8)
            let containerizer = network.containerizer(network.isolator())
            let sandbox = network.fixture.base + "/requested"
            var config = try network.config("ip -o link show eth0; sleep 600", networks: [], sandbox: sandbox)
            config.networks = [ContainerNetwork(name: name, ips: ["\(network.prefix)77/24"], mac: "0a:58:0a:63:00:42")]
            try await containerizer.launch(config)
            #expect(await containerizer.networks(of: config.containerID).first?.ipAddresses == ["\(network.prefix)77"])
            try await eventually("the task listed eth0") {
                ((try? String(contentsOfFile: sandbox + "/stdout", encoding: .utf8)) ?? "").contains("eth0")
            }
            #expect(try String(contentsOfFile: sandbox + "/stdout", encoding: .utf8).contains("0a:58:0a:63:00:42"))
            _ = await containerizer.destroy(config.containerID, gracePeriod: .zero)
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: network.leases + "/" + name)) ?? []).filter { $0.hasPrefix("10.") }.isEmpty)
        }
    }

    @Test("At start, the leases and iptables rules of a Capstan container that exists nowhere on the host are freed; those of a container another agent holds, and of other runtimes, stay")
    func staleLeasesAndRulesAreSwept() async throws {
        try await CNITestNetwork.with { network in
            let name = "capm-\(network.fixture.testID)"
            let config = """
                {"cniVersion": "1.0.0", "name": "\(name)", "plugins": [
                  {"type": "bridge", "bridge": "\(network.bridge)", "isGateway": true, "ipMasq": true,
                   "ipam": {"type": "host-local", "dataDir": "\(network.leases)", "ranges": [[{"subnet": "\(network.prefix)0/24"}]]}},
                  {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true}]}
                """
            try config.write(toFile: network.configDirectory + "/20-\(name).conflist", atomically: true, encoding: .utf8)
            let hadPortmapChains = PortmapChains.exist()
            defer { if !hadPortmapChains { PortmapChains.remove() } }
            let gone = UUID().uuidString.lowercased(), held = UUID().uuidString.lowercased()
            let scratchNamespace = "capsw-\(network.fixture.testID.prefix(8))"
            let handle = network.fixture.base + "/other-agent/\(held)/ns"

            // `gone` was attached in a namespace that no longer exists and journalled nowhere (a lost work dir): its
            // lease, masquerading and port mapping stay behind.
            HostCommand.output("/usr/sbin/ip", ["netns", "add", scratchNamespace])
            try await network.attachByHand(gone, config: config, netns: "/run/netns/" + scratchNamespace, hostPort: Int.random(in: 40000...44999))
            HostCommand.output("/usr/sbin/ip", ["netns", "del", scratchNamespace])
            // `held` runs under another agent, which holds its namespace with a handle as Capstan does.
            HostCommand.output("/usr/sbin/ip", ["netns", "add", scratchNamespace])
            try FileManager.default.createDirectory(atPath: network.fixture.base + "/other-agent/\(held)", withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: handle, contents: nil)
            HostCommand.output("/usr/bin/mount", ["--bind", "/run/netns/" + scratchNamespace, handle])
            HostCommand.output("/usr/sbin/ip", ["netns", "del", scratchNamespace])
            defer { umount2(handle, Int32(MNT_DETACH)) }
            try await network.attachByHand(held, config: config, netns: handle, hostPort: Int.random(in: 45000...49999))
            let foreign = network.prefix + "200"
            try "k8s-0123456789abcdef\r\neth0".write(toFile: network.leases + "/\(name)/" + foreign, atomically: true, encoding: .utf8)

            func owners() -> [String] {
                let directory = network.leases + "/" + name
                return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix(network.prefix) }.compactMap {
                    (try? String(contentsOfFile: directory + "/" + $0, encoding: .utf8))?.split(whereSeparator: \.isNewline).first.map(String.init)
                }
            }
            let rulesBefore = HostCommand.output("/usr/sbin/iptables-save", ["-t", "nat"])
            #expect(Set(owners()) == [gone, held, "k8s-0123456789abcdef"])
            #expect(rulesBefore.contains("dnat name: \\\"\(name)\\\" id: \\\"\(gone)\\\"") && rulesBefore.contains("name: \\\"\(name)\\\" id: \\\"\(held)\\\""), "\(rulesBefore)")

            // A new agent start: nothing runs, nothing is journalled.
            let restarted = CNINetworkIsolator(
                configDirectories: [network.configDirectory], pluginDirectories: [CNITestNetwork.debianPlugins],
                runDirectory: network.fixture.base + "/other-run", logger: quietLogger)
            try await restarted.recover([])

            let rules = HostCommand.output("/usr/sbin/iptables-save", ["-t", "nat"])
            #expect(Set(owners()) == [held, "k8s-0123456789abcdef"], "the lease of \(gone) is freed; the others stay")
            #expect(!rules.contains(gone), "no masquerading or port-mapping rule of \(gone) is left: \(rules)")
            let heldRules = rules.split(separator: "\n").filter { $0.contains(held) }
            #expect(heldRules.count == rulesBefore.split(separator: "\n").filter { $0.contains(held) }.count && heldRules.count >= 4, "\(heldRules)")

            try await network.deleteByHand(held, config: config, netns: handle)
            #expect(!HostCommand.output("/usr/sbin/iptables-save", ["-t", "nat"]).contains(held))
            try? FileManager.default.removeItem(atPath: network.leases + "/\(name)/" + foreign)
        }
    }

    @Test("A plugin that fails ADD fails the launch naming the plugin and its message, and the network attached before it is rolled back")
    func failedAddRollsBack() async throws {
        try await CNITestNetwork.with { network in
            try network.writeFailingPlugin("refuser", message: "no addresses left in pool blue")
            try """
                {"cniVersion": "1.0.0", "name": "blue", "type": "refuser"}
                """.write(toFile: network.configDirectory + "/20-blue.conf", atomically: true, encoding: .utf8)
            let isolator = network.isolator()
            let containerizer = network.containerizer(isolator)
            let config = try network.config("sleep 600", networks: [network.name, "blue"], sandbox: network.fixture.base + "/task")
            var failure: (any Error)?
            do { try await containerizer.launch(config) } catch { failure = error }
            let message = "\(failure.map { "\($0)" } ?? "no error")"
            #expect(message.contains("CNI plugin 'refuser' failed ADD for network 'blue': no addresses left in pool blue"), "\(message)")
            #expect(network.bridgePorts().isEmpty, "the first network was not rolled back: \(network.bridgePorts())")
            #expect(network.leasedAddresses().isEmpty, "leases left: \(network.leasedAddresses())")
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: network.runDirectory)) ?? []).isEmpty, "journal left")
        }
    }

    @Test("An unknown network fails the launch naming it and the networks there are; an invalid config file is skipped, naming the file")
    func unknownNetworkIsNamed() async throws {
        try await CNITestNetwork.with { network in
            try "{\"cniVersion\": \"1.0.0\", \"name\": \"../evil\", \"type\": \"bridge\"}".write(
                toFile: network.configDirectory + "/30-bad.conf", atomically: true, encoding: .utf8)
            let isolator = network.isolator()
            let set = await isolator.networks()
            #expect(set.names == [network.name])
            #expect(set.problems.map(\.file) == [network.configDirectory + "/30-bad.conf"])
            #expect(set.problems.first?.reason.contains("'name'") == true)
            let containerizer = network.containerizer(isolator)
            let config = try network.config("sleep 600", networks: ["nosuchnet"], sandbox: network.fixture.base + "/task")
            var failure: (any Error)?
            do { try await containerizer.launch(config) } catch { failure = error }
            #expect("\(failure.map { "\($0)" } ?? "")".contains("Unknown CNI network 'nosuchnet' (networks on this agent: \(network.name))"))
        }
    }

    @Test("Deleting a network's config while a container runs does not break its teardown: DEL uses the journalled config")
    func teardownSurvivesConfigRemoval() async throws {
        try await CNITestNetwork.with { network in
            let isolator = network.isolator()
            let containerizer = network.containerizer(isolator)
            let config = try network.config("sleep 600", networks: [network.name], sandbox: network.fixture.base + "/task")
            try await containerizer.launch(config)
            #expect(network.leasedAddresses().count == 1)
            try FileManager.default.removeItem(atPath: network.configDirectory + "/10-\(network.name).conflist")
            #expect(await isolator.networks().names.isEmpty)
            _ = await containerizer.destroy(config.containerID, gracePeriod: .zero)
            #expect(network.leasedAddresses().isEmpty, "leases left: \(network.leasedAddresses())")
            #expect(network.bridgePorts().isEmpty)
        }
    }
}
