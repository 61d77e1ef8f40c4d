import CapstanAPI
import CapstanCore
import Foundation

/// Turns one instance of a workload, placed on an offer with its agent ports chosen, into the Mesos `TaskInfo`
/// the reconciler launches: command or image, environment (with Marathon's `PORT0…`, `PORT_<NAME>` and `PORTS`),
/// resources, health check, kill policy, and the `capstan.*` labels that identify the app, template and commit.
struct TaskInfoBuilder {
    let workload: Workload
    /// The full commit the manifest was read at.
    let commit: CommitID

    /// `web.1a2b3c4d.5e6f7a8b`: the app's name, the template label's first 8 digits, and a random suffix.
    func newTaskID() -> TaskID {
        let suffix = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(8)
        return TaskID("\(workload.name).\(workload.templateLabel.prefix(8)).\(suffix)")
    }

    /// - Parameters:
    ///   - slot: the instance slot of an app with persistent volumes (its `capstan.slot` label).
    ///   - persistentVolumes: the slot's volumes as the agent holds them; the task's resources name them, and a volume
    ///     at an absolute manifest path is also mapped there from the sandbox (Mesos mounts persistent volumes in it).
    func taskInfo(agent: AgentID, ports: [UInt64], taskID: TaskID? = nil, slot: Int? = nil, persistentVolumes: [Resource] = []) -> TaskInfo {
        let spec = workload.spec
        let demand = InstanceDemand(spec, volumes: false)
        var resources: [Resource] = [.scalar("cpus", demand.cpus), .scalar("mem", demand.mem)]
        if demand.disk > 0 { resources.append(.scalar("disk", demand.disk)) }
        if demand.gpus > 0 { resources.append(.scalar("gpus", demand.gpus)) }
        if !ports.isEmpty { resources.append(.ranges("ports", ports.sorted().map { ValueRange(begin: $0, end: $0) })) }
        resources += persistentVolumes

        return TaskInfo(
            name: workload.name.value, taskID: taskID ?? newTaskID(), agentID: agent, resources: Resources(resources).mesos,
            command: command(ports: ports), container: container(ports: ports, persistentVolumes: persistentVolumes),
            healthCheck: healthCheck(ports: ports),
            killPolicy: KillPolicy(gracePeriod: DurationInfo(nanoseconds: Self.nanoseconds(spec.killGracePeriod))),
            labels: Labels(labels: labels(slot: slot)))
    }

    func labels(slot: Int? = nil) -> [Label] {
        var labels = [
            Label(key: TaskLabel.app, value: workload.name.value),
            Label(key: TaskLabel.spec, value: workload.templateLabel),
            Label(key: TaskLabel.commit, value: commit.short),
            Label(key: TaskLabel.kind, value: workload.kind.rawValue),
        ]
        if let slot { labels.append(Label(key: TaskLabel.slot, value: String(slot))) }
        if !workload.spec.devices.isEmpty {
            labels.append(Label(key: TaskLabel.cdiDevices, value: workload.spec.devices.map(\.description).joined(separator: ",")))
        }
        for (key, value) in workload.labels.sorted(by: { $0.key < $1.key }) where !key.hasPrefix("capstan.") {
            labels.append(Label(key: key, value: value))
        }
        return labels
    }

    /// The argv: `command` then `args`. With an image and no `command`, the image's entrypoint runs with `args`
    /// (CommandInfo with `shell: false` and no value).
    private func command(ports: [UInt64]) -> CommandInfo {
        let spec = workload.spec
        var variables = spec.env.sorted { $0.key < $1.key }.map { Environment.Variable(name: $0.key, value: $0.value) }
        for (name, value) in portVariables(ports) { variables.append(.init(name: name, value: value)) }
        variables.append(.init(name: "CAPSTAN_APP", value: workload.name.value))
        variables.append(.init(name: "CAPSTAN_COMMIT", value: commit.short))
        let environment = Environment(variables: variables)
        if let first = spec.command.first {
            return CommandInfo(
                environment: environment, shell: false, value: first, arguments: spec.command + spec.args, user: spec.user)
        }
        return CommandInfo(environment: environment, shell: false, arguments: spec.args, user: spec.user)
    }

    /// `PORT0`…, `PORT_<NAME>` and `PORTS` (comma-separated), in the order the ports are declared.
    func portVariables(_ ports: [UInt64]) -> [(String, String)] {
        let declared = workload.spec.network.ports
        var assigned: [UInt64] = []
        var fixed = Set(declared.filter { $0.host > 0 }.map { UInt64($0.host) })
        var any = ports.filter { !fixed.contains($0) }
        for port in declared {
            if port.host > 0 {
                assigned.append(UInt64(port.host))
                fixed.remove(UInt64(port.host))
            } else if !any.isEmpty {
                assigned.append(any.removeFirst())
            }
        }
        var out: [(String, String)] = []
        for (i, port) in assigned.enumerated() {
            out.append(("PORT\(i)", "\(port)"))
            if i < declared.count {
                out.append(("PORT_" + Self.envName(declared[i].name), "\(port)"))
            }
        }
        if !assigned.isEmpty {
            out.append(("PORT", "\(assigned[0])"))
            out.append(("PORTS", assigned.map(String.init).joined(separator: ",")))
        }
        return out
    }

    /// The port a health check probes: on a CNI network (probed inside the task's network namespace, on its own
    /// address) the container port of a named port; on the host network its agent port.
    func checkedPort(_ reference: PortReference, ports: [UInt64]) -> UInt64? {
        guard workload.spec.network.cniNetwork != nil, case .name(let name) = reference else { return agentPort(reference, ports: ports) }
        return workload.spec.network.ports.first { $0.name == name }?.container.map(UInt64.init)
    }

    /// The agent port of a named or numbered port reference.
    func agentPort(_ reference: PortReference, ports: [UInt64]) -> UInt64? {
        switch reference {
        case .number(let n): return UInt64(n)
        case .name(let name):
            guard let index = workload.spec.network.ports.firstIndex(where: { $0.name == name }) else { return nil }
            let variables = portVariables(ports)
            return variables.first { $0.0 == "PORT\(index)" }.flatMap { UInt64($0.1) }
        }
    }

    /// The image, the CNI network with its port mappings (`bridge`: the agents' built-in network), and the host-path
    /// and Docker volumes.
    private func container(ports: [UInt64], persistentVolumes: [Resource] = []) -> ContainerInfo? {
        let networks = workload.spec.network.cniNetworks
        let volumes = self.volumes() + sandboxMappings(persistentVolumes)
        guard workload.spec.image != nil || !networks.isEmpty || !volumes.isEmpty else { return nil }
        var container = ContainerInfo(type: .mesos)
        container.volumes = volumes
        if let image = workload.spec.image {
            let name = image.hasPrefix("docker://") ? String(image.dropFirst("docker://".count)) : image
            container.mesos = .init(image: Image(type: .docker, docker: .init(name: name)))
        }
        if let first = networks.first {
            let declared = workload.spec.network.ports
            let mappings = zip(declared, agentPortsByDeclaration(ports)).compactMap { port, agentPort -> NetworkInfo.PortMapping? in
                guard let agentPort, let inside = port.container else { return nil }
                return NetworkInfo.PortMapping(hostPort: UInt32(agentPort), containerPort: UInt32(inside), protocol: port.protocol.rawValue)
            }
            // The ports are mapped on the first network; the others are joined as they are (eth1, eth2 …).
            container.networkInfos = [NetworkInfo(name: first, portMappings: mappings)] + networks.dropFirst().map { NetworkInfo(name: $0) }
        }
        return container
    }

    /// `spec.volumes` as Mesos volumes: a `host` path (the agent allows it only under its `--allowed-host-paths`) or a
    /// `docker` plugin's volume, read-only when asked. A `persistent` volume is not one of them: it is a resource of
    /// the task (its slot's volume), mapped to an absolute path by ``sandboxMappings(_:)``.
    func volumes() -> [Volume] {
        workload.spec.volumes.compactMap { volume in
            let mode: Volume.Mode = volume.readOnly ? .ro : .rw
            switch volume.source {
            case .host(let path):
                return Volume(mode: mode, containerPath: volume.path, source: .init(type: .hostPath, hostPath: .init(path: path)))
            case .docker(let driver, let name):
                return Volume(mode: mode, containerPath: volume.path, source: .init(type: .dockerVolume, dockerVolume: .init(driver: driver, name: name)))
            case .persistent:
                return nil
            }
        }
    }

    /// For each persistent volume at an absolute manifest path (the decoder allows that only with an image): a
    /// SANDBOX_PATH volume that maps its place in the sandbox (`data` for `/data`) to that path.
    func sandboxMappings(_ persistentVolumes: [Resource]) -> [Volume] {
        workload.spec.volumes.compactMap { volume in
            guard case .persistent(_, let destroy) = volume.source, !destroy, volume.path.hasPrefix("/") else { return nil }
            let inSandbox = AppVolumeID.sandboxPath(forPath: volume.path)
            guard persistentVolumes.contains(where: { $0.volume?.containerPath == inSandbox }) else { return nil }
            return Volume(
                mode: .rw, containerPath: volume.path,
                source: .init(type: .sandboxPath, sandboxPath: .init(type: .`self`, path: inSandbox)))
        }
    }

    /// The agent port of each declared port, in declaration order: its `host` port, else (on host and bridge networks)
    /// the next of the offer's other ports; nil for a port with no agent port (a CNI network's unmapped port).
    func agentPortsByDeclaration(_ ports: [UInt64]) -> [UInt64?] {
        let declared = workload.spec.network.ports
        let fixed = Set(declared.filter { $0.host > 0 }.map { UInt64($0.host) })
        var any = ports.filter { !fixed.contains($0) }
        let mapsEveryPort = workload.spec.network.name == NetworkSpec.host || workload.spec.network.name == NetworkSpec.bridge
        return declared.map { port in
            if port.host > 0 { return UInt64(port.host) }
            guard mapsEveryPort, !any.isEmpty else { return nil }
            return any.removeFirst()
        }
    }

    private func healthCheck(ports: [UInt64]) -> HealthCheck? {
        guard let health = workload.spec.health else { return nil }
        var check = HealthCheck(
            delaySeconds: 0, intervalSeconds: Self.seconds(health.interval), timeoutSeconds: Self.seconds(health.timeout),
            consecutiveFailures: UInt32(max(1, health.maxFailures)), gracePeriodSeconds: Self.seconds(health.gracePeriod))
        switch health.check {
        case .http(let port, let path):
            check.type = .http
            check.http = .init(scheme: "http", port: UInt32(checkedPort(port, ports: ports) ?? 0), path: path)
        case .tcp(let port):
            check.type = .tcp
            check.tcp = .init(port: UInt32(checkedPort(port, ports: ports) ?? 0))
        case .command(let argv):
            check.type = .command
            check.command = CommandInfo(shell: true, value: argv.map(Self.shellQuoted).joined(separator: " "))
        }
        return check
    }

    static func envName(_ name: String) -> String {
        String(name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    static func shellQuoted(_ word: String) -> String {
        if !word.isEmpty, word.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:,".contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
    }
}
