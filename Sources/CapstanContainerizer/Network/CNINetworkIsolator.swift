public import CapstanCore
import CapstanLinux
import Foundation
import Glibc
public import Logging

/// The `network/cni` isolator: joins a container to the CNI networks its task names, through the networks' own
/// plugins, and takes it off them again on every way a container ends.
///
/// - `prepare` resolves the networks (an unknown one fails the launch, naming it and the networks there are) and
///   creates the container's `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf`, which the launcher bind-mounts.
/// - `isolate` (for the container's PID 1, the first placed process in a network namespace of its own) holds that
///   namespace with a bind mount, then runs ADD for each network in order (`eth0`, `eth1` …), journalling the exact
///   configuration before and the result after each, and fills the `/etc` files from the results.
/// - `cleanup` runs DEL for each journalled attachment in reverse order with the journalled configuration and result
///   (removing or editing a configuration never breaks teardown), then releases the namespace. After a failed ADD the
///   containerizer calls `cleanup`, which rolls back the networks attached before it.
/// - `recover` DELs every journalled container the agent no longer has, then sweeps leases and iptables rules of
///   containers that exist nowhere on the host.
public actor CNINetworkIsolator: SetupIsolator {
    public nonisolated let name = "network/cni"

    /// Where network configurations are, in order: a name defined in an earlier one wins.
    private let configDirectories: [CNIConfigDirectory]
    private let runner: CNIPluginRunner
    private let journal: CNIAttachmentJournal
    private let logger: Logger

    private var networkSet = CNINetworkSet()
    private var signature: [[String]]?
    /// Plugin path → the spec versions it answered to VERSION.
    private var pluginVersions: [String: [CNIVersion]] = [:]

    /// Launches between `prepare` and `isolate`.
    private var prepared: [ContainerID: Prepared] = [:]
    /// Attachments of running containers.
    private var attached: [ContainerID: [ContainerNetworkStatus]] = [:]

    private struct Prepared {
        var networks: [(ContainerNetwork, CNINetworkList)]
        var hostname: String
    }

    /// - Parameters:
    ///   - configDirectories: where the network configurations are (re-read whenever one changes); a name defined in
    ///     an earlier directory wins.
    ///   - pluginDirectories: where plugins are looked for, in order.
    ///   - runDirectory: the journal and namespace handles (see ``CNIAttachmentJournal``).
    public init(
        configDirectories: [String], pluginDirectories: [String], runDirectory: String, logger: Logger,
        pluginTimeout: Duration = .seconds(60)
    ) {
        self.configDirectories = configDirectories.map(CNIConfigDirectory.init(path:))
        self.runner = CNIPluginRunner(pluginDirectories: pluginDirectories, timeout: pluginTimeout)
        self.journal = CNIAttachmentJournal(root: runDirectory)
        self.logger = logger
    }

    /// The usable networks now (the directory is re-read when it changed); invalid files are logged once per change.
    public func networks() -> CNINetworkSet {
        let current = configDirectories.map { $0.signature() }
        if current != signature {
            signature = current
            var merged = CNINetworkSet()
            for directory in configDirectories {
                let set = directory.load()
                merged.problems += set.problems
                for (name, list) in set.networks.sorted(by: { $0.key < $1.key }) {
                    if let first = merged.networks[name] {
                        merged.problems.append(CNIConfigError(file: list.file, reason: "network '\(name)' is already defined by \(first.file)"))
                    } else {
                        merged.networks[name] = list
                    }
                }
            }
            networkSet = merged
            for problem in networkSet.problems {
                logger.warning("Ignoring a CNI network configuration", metadata: ["file": "\(problem.file)", "reason": "\(problem.reason)"])
            }
            logger.info(
                "CNI networks", metadata: ["networks": "\(networkSet.names.joined(separator: ","))", "directories": "\(configDirectories.map(\.path))"])
        }
        return networkSet
    }

    // MARK: Isolator

    public func prepare(_ config: ContainerConfig) async throws -> LaunchHooks? {
        guard !config.networks.isEmpty else { return nil }
        let id = config.containerID
        guard config.networkMode == .isolated else {
            throw CapstanError(.invalidArgument, "Container \(id) names CNI networks but shares the host's network namespace")
        }
        let set = networks()
        var resolved: [(ContainerNetwork, CNINetworkList)] = []
        for network in config.networks {
            guard let list = set.networks[network.name] else {
                let known = set.names.isEmpty ? "none" : set.names.joined(separator: ", ")
                throw CapstanError(.notFound, "Unknown CNI network '\(network.name)' (networks on this agent: \(known))")
            }
            if resolved.contains(where: { $0.0.name == network.name }) {
                throw CapstanError(.invalidArgument, "CNI network '\(network.name)' is named twice")
            }
            resolved.append((network, list))
        }
        let hostname = config.hostname ?? String(config.containerID.value.prefix(64))
        let etc = try journal.etcDirectory(id)
        try await Blocking.run {
            try CNIAttachmentJournal.makeDirectory(etc)
            // Empty until `isolate` fills them; nothing to make durable (they are rewritten on every launch).
            for name in ["hosts", "hostname", "resolv.conf"] {
                guard FileManager.default.createFile(atPath: etc + "/" + name, contents: nil, attributes: [.posixPermissions: 0o644]) else {
                    throw CapstanError(.internal, "Cannot create \(etc)/\(name) for container \(id)")
                }
            }
        }
        prepared[id] = Prepared(networks: resolved, hostname: hostname)
        return LaunchHooks(mounts: ["hosts", "hostname", "resolv.conf"].map { BindMountSpec(source: etc + "/" + $0, target: "/etc/" + $0) })
    }

    public func isolate(_ id: ContainerID, pid: Int32) async throws {
        guard let plan = prepared[id] else { return }
        // The monitor stays in the agent's namespace; the container's PID 1 is the process with one of its own.
        guard let namespace = NetworkNamespaceHandle.identity(ofProcess: pid) else {
            throw CapstanError(.notFound, "Process \(pid) of container \(id) is gone before its networks were attached")
        }
        if let own = NetworkNamespaceHandle.own(), own == namespace { return }
        prepared[id] = nil
        let netns = try journal.netnsPath(id)
        try NetworkNamespaceHandle.hold(pid: pid, at: netns)
        var statuses: [ContainerNetworkStatus] = []
        var results: [CNIResult] = []
        for (index, (network, list)) in plan.networks.enumerated() {
            let attachment = CNIAttachmentJournal.Attachment(
                index: index, network: network.name, interface: "eth\(index)", args: Self.cniArgs(id, network).map { [$0.0, $0.1] },
                runtimeConfig: Self.runtimeConfig(network), mesosNetworkInfo: network.mesosNetworkInfo)
            let version = try await negotiate(list)
            let document = list.document(version: version)
            let journal = self.journal
            try await Blocking.run { try journal.begin(id, attachment, document: document) }
            let result = try await add(id, attachment, document: document, netns: netns)
            try await Blocking.run { try journal.finish(id, attachment, result: result) }
            let read = CNIResult(result)
            results.append(read)
            statuses.append(ContainerNetworkStatus(network: network.name, interface: attachment.interface, ipAddresses: read.ipAddresses))
            logger.info(
                "Attached a container to a CNI network",
                metadata: ["container_id": "\(id)", "network": "\(network.name)", "interface": "\(attachment.interface)", "ips": "\(read.ipAddresses)"])
        }
        attached[id] = statuses
        let files = ContainerNetworkFiles(hostname: plan.hostname, results: results)
        let etc = try journal.etcDirectory(id)
        try await Blocking.run { try files.write(into: etc) }
    }

    public func cleanup(_ id: ContainerID) async throws {
        prepared[id] = nil
        attached[id] = nil
        guard id.isPathSafe else { return }
        let journal = self.journal
        let entries = try journal.entries(id)
        var failures: [String] = []
        let netns = try journal.netnsPath(id)
        for entry in entries.reversed() {
            do {
                try await delete(id, entry, netns: netns)
                try? FileManager.default.removeItem(atPath: entry.directory)
                logger.info("Detached a container from a CNI network", metadata: ["container_id": "\(id)", "network": "\(entry.attachment.network)"])
            } catch {
                failures.append("\(error)")
                logger.error(
                    "DEL failed; the attachment stays journalled and is retried at the next agent start",
                    metadata: ["container_id": "\(id)", "network": "\(entry.attachment.network)", "error": "\(error)"])
            }
        }
        guard failures.isEmpty else {
            throw CapstanError(.internal, "Detaching container \(id) from its CNI networks failed: \(failures.joined(separator: "; "))")
        }
        try NetworkNamespaceHandle.release(netns)
        try await Blocking.run { try journal.remove(id) }
    }

    public func recover(_ states: [ContainerRecoveryState]) async throws {
        let known = Set(states.map(\.containerID))
        for state in states where state.pid != nil {
            let statuses = try journal.entries(state.containerID).map { entry in
                ContainerNetworkStatus(
                    network: entry.attachment.network, interface: entry.attachment.interface,
                    ipAddresses: entry.result.map { CNIResult($0).ipAddresses } ?? [])
            }
            if !statuses.isEmpty { attached[state.containerID] = statuses }
        }
        for id in journal.containers() where !known.contains(id) {
            logger.info("Detaching the networks of a container the agent no longer has", metadata: ["container_id": "\(id)"])
            do { try await cleanup(id) } catch { logger.error("Cleanup of an orphaned network attachment failed", metadata: ["error": "\(error)"]) }
        }
        await sweep(running: Set(states.filter { $0.pid != nil }.map(\.containerID.value)))
    }

    /// Frees what plugins still hold for Capstan containers that exist nowhere on the host any more — left when an
    /// agent's journal was lost, or by a DEL that had no namespace: host-local leases of the configured networks
    /// (released by a DEL through the network's configuration with no namespace, as the spec allows) and iptables
    /// rules tagged with such a container (removed with their chains; see ``IptablesRuleSweep``).
    ///
    /// A container exists while it is running here, is journalled here, or has a namespace handle mounted anywhere on
    /// the host (another agent's). A handle is mounted before a container's first ADD and unmounted after its last DEL,
    /// so reading the leases and rules first and the mounts after never takes a container being attached for stale.
    private func sweep(running: Set<String>) async {
        let set = networks()
        let directories = Self.hostLocalLeaseDirectories(set)
        let tools = IptablesTool.installed()
        let snapshot = try? await Blocking.run {
            let leases = directories.map { ($0.network, $0.directory, CNILeaseDirectory(path: $0.directory).leases()) }
            let tables = tools.flatMap { tool in
                ["nat", "filter"].compactMap { table in tool.dump(table: table).map { (tool, table, IptablesRuleSweep.parse($0)) } }
            }
            return (leases, tables)
        }
        guard let (leases, tables) = snapshot else { return }
        let live = running.union(journal.containers().map(\.value)).union(NetworkNamespaceHandle.heldContainerIDs())
        let isStale: @Sendable (String) -> Bool = { Self.isCapstanContainerID($0) && !live.contains($0) }
        for (name, directory, held) in leases {
            guard let list = set.networks[name], let version = CNIVersion.negotiate(wanted: list.versions, plugins: [CNIVersion.runtimeSupported]) else { continue }
            for lease in held where isStale(lease.containerID) {
                let attachment = CNIAttachmentJournal.Attachment(
                    index: 0, network: name, interface: lease.interface, args: [["IgnoreUnknown", "1"]], runtimeConfig: .object([:]), mesosNetworkInfo: nil)
                let entry = CNIAttachmentJournal.Entry(directory: directory, attachment: attachment, document: list.document(version: version), result: nil)
                do {
                    try await delete(ContainerID(lease.containerID), entry, netns: "")
                    logger.warning(
                        "Released the lease of a container that no longer exists",
                        metadata: ["network": "\(name)", "address": "\(lease.address)", "container_id": "\(lease.containerID)"])
                } catch {
                    logger.error("Could not release a stale lease", metadata: ["network": "\(name)", "address": "\(lease.address)", "error": "\(error)"])
                }
            }
        }
        for (tool, table, rules) in tables {
            let commands = IptablesRuleSweep.plan(rules, name: table, isStale: isStale)
            guard !commands.isEmpty else { continue }
            let failures = (try? await Blocking.run { commands.compactMap { tool.run($0) } }) ?? []
            logger.warning(
                "Removed iptables rules of containers that no longer exist",
                metadata: ["tool": "\(tool.program)", "table": "\(table)", "commands": "\(commands.count)", "failures": "\(failures)"])
        }
    }

    /// Where host-local keeps each configured network's leases: its `dataDir` (default /var/lib/cni/networks), then
    /// the network's name.
    static func hostLocalLeaseDirectories(_ set: CNINetworkSet) -> [(network: String, directory: String)] {
        set.networks.keys.sorted().compactMap { name in
            guard let ipam = set.networks[name]?.plugins.lazy.compactMap({ $0["ipam"] }).first(where: { $0["type"]?.stringValue == "host-local" }) else { return nil }
            let root = ipam["dataDir"]?.stringValue ?? "/var/lib/cni/networks"
            return (name, root + "/" + name)
        }
    }

    /// The agent names containers with lowercase UUIDs; leases of other runtimes are never touched.
    static func isCapstanContainerID(_ id: String) -> Bool {
        id.utf8.count == 36 && UUID(uuidString: id) != nil && id == id.lowercased()
    }

    public func networks(of id: ContainerID) async -> [ContainerNetworkStatus] {
        attached[id] ?? []
    }

    // MARK: Plugins

    /// The highest version of the list's `cniVersion`/`cniVersions` that every plugin of it answered to VERSION.
    private func negotiate(_ list: CNINetworkList) async throws -> CNIVersion {
        var supported: [[CNIVersion]] = []
        for type in list.pluginTypes {
            guard let path = runner.locate(type) else {
                throw CNIPluginError(
                    plugin: type, network: list.name, command: "VERSION",
                    message: "no executable '\(type)' in the plugin directories \(runner.pluginDirectories.joined(separator: ", "))")
            }
            if let known = pluginVersions[path] {
                supported.append(known)
                continue
            }
            let probe = JSONValue.object(["cniVersion": .string(list.versions.max()?.description ?? "1.0.0")])
            let output = try await runner.run(type, network: list.name, CNIPluginCall(command: "VERSION", stdin: probe.encoded()))
            let versions = ((try? JSONValue.parse(output))?["supportedVersions"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(CNIVersion.init) }
            pluginVersions[path] = versions
            supported.append(versions)
        }
        guard let version = CNIVersion.negotiate(wanted: list.versions, plugins: supported) else {
            throw CapstanError(
                .failedPrecondition,
                "CNI network '\(list.name)' (\(list.file)) asks for spec \(list.versions.map(\.description).joined(separator: ", ")), which its plugins \(list.pluginTypes.joined(separator: ", ")) and Capstan do not all support")
        }
        return version
    }

    /// ADD through the chain: each plugin gets the previous one's result; returns the last result.
    private func add(_ id: ContainerID, _ attachment: CNIAttachmentJournal.Attachment, document: JSONValue, netns: String) async throws -> JSONValue {
        let (list, version) = try CNINetworkList.fromDocument(document, file: "journal of \(id)")
        var previous: JSONValue?
        for plugin in list.plugins {
            let stdin = Self.pluginInput(plugin, list: list, version: version, attachment: attachment, previous: previous)
            let output = try await runner.run(
                plugin["type"]?.stringValue ?? "", network: list.name,
                CNIPluginCall(command: "ADD", containerID: id.value, netns: netns, interface: attachment.interface, args: attachment.args.map { ($0[0], $0[1]) }, stdin: stdin))
            guard let result = try? JSONValue.parse(output), result.objectValue != nil else {
                throw CNIPluginError(plugin: plugin["type"]?.stringValue ?? "", network: list.name, command: "ADD", message: "its result is not a JSON object")
            }
            previous = result
        }
        return previous ?? .object([:])
    }

    /// DEL through the chain in reverse, with the journalled result as `prevResult`. A missing namespace is passed as
    /// empty, as the spec allows, so plugins still free what they hold on the host.
    private func delete(_ id: ContainerID, _ entry: CNIAttachmentJournal.Entry, netns: String) async throws {
        let (list, version) = try CNINetworkList.fromDocument(entry.document, file: entry.directory + "/network.conf")
        let namespace = NetworkNamespaceHandle.isHeld(netns) ? netns : ""
        for plugin in list.plugins.reversed() {
            let stdin = Self.pluginInput(plugin, list: list, version: version, attachment: entry.attachment, previous: entry.result)
            _ = try await runner.run(
                plugin["type"]?.stringValue ?? "", network: list.name,
                CNIPluginCall(
                    command: "DEL", containerID: id.value, netns: namespace, interface: entry.attachment.interface,
                    args: entry.attachment.args.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }, stdin: stdin))
        }
    }

    /// A plugin's stdin: its configuration with the list's name and version, `prevResult`, the runtime configuration
    /// it declared capabilities for, and Mesos' `args`.
    static func pluginInput(
        _ plugin: [String: JSONValue], list: CNINetworkList, version: CNIVersion, attachment: CNIAttachmentJournal.Attachment, previous: JSONValue?
    ) -> Data {
        var config = plugin
        config["name"] = .string(list.name)
        config["cniVersion"] = .string(version.description)
        if let previous { config["prevResult"] = previous }
        if let capabilities = plugin["capabilities"]?.objectValue, let runtime = attachment.runtimeConfig.objectValue {
            let wanted = runtime.filter { capabilities[$0.key]?.boolValue == true }
            if !wanted.isEmpty { config["runtimeConfig"] = .object(wanted) }
        }
        if let info = attachment.mesosNetworkInfo {
            var args = config["args"]?.objectValue ?? [:]
            args["org.apache.mesos"] = .object(["network_info": info])
            config["args"] = .object(args)
        }
        return JSONValue.object(config).encoded()
    }

    static func runtimeConfig(_ network: ContainerNetwork) -> JSONValue {
        var runtime: [String: JSONValue] = [:]
        if !network.ips.isEmpty { runtime["ips"] = .array(network.ips.map(JSONValue.string)) }
        if let mac = network.mac { runtime["mac"] = .string(mac) }
        if !network.portMappings.isEmpty {
            runtime["portMappings"] = .array(
                network.portMappings.map {
                    .object(["hostPort": .number(Double($0.hostPort)), "containerPort": .number(Double($0.containerPort)), "protocol": .string($0.protocol)])
                })
        }
        return .object(runtime)
    }

    /// `CNI_ARGS`: `IgnoreUnknown=1` (plugins refuse unknown keys without it), then the agent's pairs.
    static func cniArgs(_ id: ContainerID, _ network: ContainerNetwork) -> [(String, String)] {
        var pairs = [("IgnoreUnknown", "1"), ("CAPSTAN_CONTAINER_ID", id.value)]
        for (key, value) in network.args.sorted(by: { $0.key < $1.key }) where !(key + value).contains(where: { $0 == ";" || $0 == "=" }) {
            pairs.append((key, value))
        }
        return pairs
    }
}
