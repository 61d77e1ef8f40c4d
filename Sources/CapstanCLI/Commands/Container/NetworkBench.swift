import ArgumentParser
import CapstanContainerizer
import CapstanCore
import Foundation
import Glibc
import Logging

/// `capstan bench network`: attach + detach of one container on a bridge network, Capstan's `network/cni` isolator
/// against calling the same plugins directly.
struct BenchNetwork: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network",
        abstract: "Time attach + detach of one container on a bridge network: Capstan's network/cni isolator vs the plugins called directly.",
        discussion: """
            Each run starts a process in a fresh network namespace (util-linux unshare), then times, in alternating order: \
            Capstan's isolator (prepare, isolate: netns handle, journal, ADD of bridge then portmap with one port mapping, \
            /etc files; cleanup: DEL in reverse, handle released, journal removed) and the same two plugins called \
            directly with the same configuration and the same namespace (ADD bridge, ADD portmap with prevResult and \
            runtimeConfig, DEL portmap, DEL bridge), as a minimal runtime would, through the same process-spawning code. The bridge and subnet are the bench's own \
            and are removed at the end. The ratio is Capstan's mean over the direct calls'. Needs root.
            """)

    @Option(help: "Runs of each.") var runs: Int = 30
    @Option(help: "Where the CNI plugins are.") var pluginsDir: String = "/usr/lib/cni"
    @Option(help: "The bench network's subnet (private; the bench's own bridge carries it).") var subnet: String = "10.99.250.0/24"
    @Option(help: "The bench network's bridge (created by the plugin, deleted at the end).") var bridge: String = "capbench0"

    func run() async throws {
        guard geteuid() == 0 else { throw ValidationError("capstan bench network needs root") }
        guard access(pluginsDir + "/bridge", X_OK) == 0, access(pluginsDir + "/portmap", X_OK) == 0 else {
            throw ValidationError("no bridge and portmap plugins in \(pluginsDir) (apt-get install containernetworking-plugins)")
        }
        let parsed: IPv4Subnet
        do { parsed = try IPv4Subnet(subnet, flag: "--subnet") } catch { throw ValidationError(error.message) }
        let scratch = "/tmp/capstan-bench-network-\(getpid())"
        let configDirectory = scratch + "/config"
        try FileManager.default.createDirectory(atPath: configDirectory, withIntermediateDirectories: true)
        defer {
            Self.command("/usr/sbin/ip", ["link", "del", bridge])
            try? FileManager.default.removeItem(atPath: scratch)
        }
        let name = "capstan-bench"
        let conflist = """
            {"cniVersion": "1.0.0", "name": "\(name)", "plugins": [
              {"type": "bridge", "bridge": "\(bridge)", "isGateway": true, "ipMasq": false,
               "ipam": {"type": "host-local", "dataDir": "\(scratch)/leases", "ranges": [[{"subnet": "\(parsed)"}]]}},
              {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true}
            ]}
            """
        try conflist.write(toFile: configDirectory + "/bench.conflist", atomically: true, encoding: .utf8)
        let logger = Logger(label: "capstan.bench.network") { _ in SwiftLogNoOpLogHandler() }
        let isolator = CNINetworkIsolator(
            configDirectories: [configDirectory], pluginDirectories: [pluginsDir], runDirectory: scratch + "/run", logger: logger)
        let direct = DirectCNI(pluginsDir: pluginsDir, conflist: try JSONValue.parse(Data(conflist.utf8)))

        var capstan: [Double] = [], plain: [Double] = []
        for index in 0..<(runs + 1) {
            let holder = try NamespaceHolder()
            defer { holder.stop() }
            let id = ContainerID("bench-\(index)")
            let mapping = ContainerNetwork.PortMapping(hostPort: 40000 + index % 1000, containerPort: 8080)
            let timeCapstan = {
                var config = ContainerConfig(containerID: id, command: CommandSpec(shell: true, value: "true"), sandboxDirectory: scratch)
                config.networks = [ContainerNetwork(name: name, portMappings: [mapping])]
                let start = ContinuousClock.now
                _ = try await isolator.prepare(config)
                try await isolator.isolate(id, pid: holder.pid)
                try await isolator.cleanup(id)
                return (ContinuousClock.now - start).seconds
            }
            let timeDirect = {
                let start = ContinuousClock.now
                try await direct.attachAndDetach(containerID: "direct-\(index)", netns: "/proc/\(holder.pid)/ns/net", mapping: mapping)
                return (ContinuousClock.now - start).seconds
            }
            // Alternate which goes first, so neither always finds the bridge and caches warm.
            let (a, b): (Double, Double)
            if index % 2 == 0 {
                a = try await timeCapstan()
                b = try await timeDirect()
            } else {
                b = try await timeDirect()
                a = try await timeCapstan()
            }
            if index > 0 {  // the first run creates the bridge and learns the plugins' versions
                capstan.append(a)
                plain.append(b)
            }
        }
        let capstanMean = capstan.reduce(0, +) / Double(capstan.count), plainMean = plain.reduce(0, +) / Double(plain.count)
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        print(String(format: "capstan network/cni: %d runs, mean %.2f ms, p50 %.2f ms, min %.2f ms", capstan.count, capstanMean * 1000, median(capstan) * 1000, (capstan.min() ?? 0) * 1000))
        print(String(format: "plugins directly:    %d runs, mean %.2f ms, p50 %.2f ms, min %.2f ms", plain.count, plainMean * 1000, median(plain) * 1000, (plain.min() ?? 0) * 1000))
        print(String(format: "ratio capstan/direct: mean %.2f, p50 %.2f", capstanMean / plainMean, median(capstan) / median(plain)))
    }

    @discardableResult
    static func command(_ path: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// A process holding a fresh network namespace (`unshare --net sleep`), stopped by pid.
private final class NamespaceHolder {
    let process = Process()
    var pid: Int32 { process.processIdentifier }

    init() throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["--net", "sleep", "600"]
        try process.run()
        let own = Self.netns("/proc/self/ns/net")
        for _ in 0..<500 {
            let theirs = Self.netns("/proc/\(process.processIdentifier)/ns/net")
            if let theirs, theirs != own { return }
            usleep(2000)
        }
        stop()
        throw CapstanError(.internal, "unshare --net did not enter a new network namespace")
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    static func netns(_ path: String) -> UInt? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt(info.st_ino) : nil
    }
}

/// The peer: the plugins of a conflist called as a minimal runtime would (no journal, no version probe).
private struct DirectCNI {
    let pluginsDir: String
    let conflist: JSONValue

    func attachAndDetach(containerID: String, netns: String, mapping: ContainerNetwork.PortMapping) async throws {
        let plugins = conflist["plugins"]?.arrayValue ?? []
        let runtime = JSONValue.object(["portMappings": .array([.object([
            "hostPort": .number(Double(mapping.hostPort)), "containerPort": .number(Double(mapping.containerPort)), "protocol": .string("tcp"),
        ])])])
        func input(_ plugin: JSONValue, previous: JSONValue?) -> Data {
            var config = plugin.objectValue ?? [:]
            config["name"] = conflist["name"]
            config["cniVersion"] = conflist["cniVersion"]
            if let previous { config["prevResult"] = previous }
            if plugin["capabilities"]?["portMappings"]?.boolValue == true { config["runtimeConfig"] = runtime }
            return JSONValue.object(config).encoded()
        }
        var result: JSONValue?
        for plugin in plugins {
            result = try JSONValue.parse(try await call(plugin, "ADD", containerID, netns, input(plugin, previous: result)))
        }
        for plugin in plugins.reversed() { _ = try await call(plugin, "DEL", containerID, netns, input(plugin, previous: result)) }
    }

    /// Runs one plugin through the same exec primitive the isolator uses (``CNIPluginRunner/run(_:network:_:)``), so
    /// that the ratio measures what the isolator adds, not two ways of spawning a process.
    private func call(_ plugin: JSONValue, _ command: String, _ containerID: String, _ netns: String, _ stdin: Data) async throws -> Data {
        let runner = CNIPluginRunner(pluginDirectories: [pluginsDir])
        return try await runner.run(
            plugin["type"]?.stringValue ?? "", network: conflist["name"]?.stringValue ?? "",
            CNIPluginCall(command: command, containerID: containerID, netns: netns, interface: "eth0", stdin: stdin))
    }
}
