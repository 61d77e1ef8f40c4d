/// What one instance of a workload needs on an agent: scalars from `spec.resources` (persistent volumes
/// add their size to `disk`), and agent ports from `spec.network.ports`.
///
/// Ports: on the `host` and `bridge` networks every declared port takes an agent port, the one named by
/// `host` or, when `host` is 0, any free one. On other (CNI) networks only ports with a `host` mapping do.
public struct InstanceDemand: Sendable, Hashable {
    public var cpus: Double
    public var mem: Double
    public var disk: Double
    public var gpus: Double
    /// Agent ports that must be free, sorted, without duplicates.
    public var fixedPorts: [UInt64]
    /// How many other agent ports (any) are needed.
    public var anyPorts: Int
    /// The CNI networks the agent must have (``AgentAttribute/cniNetworks``); none on the host network.
    public var networks: [String]
    /// The CDI devices the agent must define (``AgentAttribute/cdiDevices``), sorted.
    public var devices: [String]

    public init(
        cpus: Double = 0, mem: Double = 0, disk: Double = 0, gpus: Double = 0, fixedPorts: [UInt64] = [], anyPorts: Int = 0,
        networks: [String] = [], devices: [String] = []
    ) {
        self.networks = networks
        self.devices = Array(Set(devices)).sorted()
        self.cpus = cpus
        self.mem = mem
        self.disk = disk
        self.gpus = gpus
        self.fixedPorts = Array(Set(fixedPorts)).sorted()
        self.anyPorts = anyPorts
    }

    /// - Parameter volumes: whether the persistent volumes' sizes count (they do when the volumes are still to be made
    ///   from the agent's free disk; ``VolumeSlots`` adds only the new ones of an instance's slot).
    public init(_ spec: WorkloadSpec, volumes: Bool = true) {
        var disk = spec.resources.diskMiB
        for volume in spec.volumes where volumes {
            if case .persistent(let size, let destroy) = volume.source, !destroy { disk += size }
        }
        var fixed: [UInt64] = []
        var any = 0
        let mapsEveryPort = spec.network.name == NetworkSpec.host || spec.network.name == NetworkSpec.bridge
        for port in spec.network.ports {
            if port.host > 0 {
                fixed.append(UInt64(port.host))
            } else if mapsEveryPort {
                any += 1
            }
        }
        self.init(
            cpus: spec.resources.cpus, mem: spec.resources.memMiB, disk: disk, gpus: Double(spec.resources.gpus),
            fixedPorts: fixed, anyPorts: any, networks: spec.network.cniNetworks, devices: spec.devices.map(\.description))
    }

    /// `cpus 0.5, mem 128, ports 8080 +1`: the non-zero parts, for messages.
    public var description: String {
        var parts: [String] = []
        for (name, value) in [("cpus", cpus), ("mem", mem), ("disk", disk), ("gpus", gpus)] where value > 0 {
            parts.append("\(name) \(ScalarFormat.text(value))")
        }
        if !fixedPorts.isEmpty || anyPorts > 0 {
            let fixed = fixedPorts.map(String.init).joined(separator: ",")
            parts.append("ports " + [fixed, anyPorts > 0 ? "\(anyPorts) any" : ""].filter { !$0.isEmpty }.joined(separator: " + "))
        }
        return parts.joined(separator: ", ")
    }
}
