/// What a manifest document declares: an App, kept running at `instances`, or a Job, run to
/// completion once per spec change. Defaults are applied, so two manifests that mean the same
/// thing give equal values (and the same ``specHash``).
public struct Workload: Sendable, Hashable {
    public var kind: WorkloadKind
    /// A DNS label, unique among all apps and jobs of a repository.
    public var name: AppName
    public var labels: [String: String]
    public var spec: WorkloadSpec

    public init(kind: WorkloadKind, name: AppName, labels: [String: String] = [:], spec: WorkloadSpec = WorkloadSpec()) {
        self.kind = kind
        self.name = name
        self.labels = labels
        self.spec = spec
    }

    /// How many instances it has once deployed: an app's `instances` (none below 0), a job's runs (at least one).
    public var instanceCount: Int { kind == .job ? max(1, spec.instances) : max(0, spec.instances) }
}

/// The `kind` of a manifest document.
public enum WorkloadKind: String, Sendable, Hashable, CaseIterable {
    /// Kept at `instances`, restarted with backoff, updated by rolling replacement.
    case app = "App"
    /// Run to completion once per spec change.
    case job = "Job"
}

/// The `spec` of an App or Job, with defaults applied. Fields follow Marathon's app definition.
public struct WorkloadSpec: Sendable, Hashable {
    /// `docker://…`, `oci:PATH[:tag]`, `oci-archive:PATH` or `docker-archive:PATH`; nil runs a host command.
    public var image: String?
    /// The argv to run (replaces the image's entrypoint); a string in YAML becomes `["/bin/sh", "-c", string]`.
    public var command: [String]
    /// Arguments appended to `command` (or to the image's entrypoint and cmd).
    public var args: [String]
    public var env: [String: String]
    public var instances: Int
    public var resources: ResourceRequest
    public var network: NetworkSpec
    public var volumes: [VolumeSpec]
    public var health: HealthCheckSpec?
    public var update: UpdateStrategy
    public var backoff: RestartBackoff
    /// Time between SIGTERM and SIGKILL when a task is killed.
    public var killGracePeriod: Duration
    public var constraints: [Constraint]
    /// Names of apps or jobs that must be deployed (apps healthy, jobs finished) before this one.
    public var dependsOn: [AppName]
    /// The user the task runs as; nil keeps the agent's default.
    public var user: String?
    /// CDI devices each task gets, by fully qualified name (`vendor.com/class=name`): only agents whose CDI specs
    /// define them all can run it.
    public var devices: [CDIDeviceName] = []

    public static let defaultKillGracePeriod: Duration = .seconds(5)

    public init(
        image: String? = nil, command: [String] = [], args: [String] = [], env: [String: String] = [:],
        instances: Int = 1, resources: ResourceRequest = ResourceRequest(), network: NetworkSpec = NetworkSpec(),
        volumes: [VolumeSpec] = [], health: HealthCheckSpec? = nil, update: UpdateStrategy = UpdateStrategy(),
        backoff: RestartBackoff = RestartBackoff(), killGracePeriod: Duration = WorkloadSpec.defaultKillGracePeriod,
        constraints: [Constraint] = [], dependsOn: [AppName] = [], user: String? = nil
    ) {
        self.image = image
        self.command = command
        self.args = args
        self.env = env
        self.instances = instances
        self.resources = resources
        self.network = network
        self.volumes = volumes
        self.health = health
        self.update = update
        self.backoff = backoff
        self.killGracePeriod = killGracePeriod
        self.constraints = constraints
        self.dependsOn = dependsOn
        self.user = user
    }
}

/// `spec.resources`: what each instance needs. `mem` and `disk` are MiB (Mesos' unit).
public struct ResourceRequest: Sendable, Hashable {
    public var cpus: Double
    public var memMiB: Double
    public var diskMiB: Double
    public var gpus: Int

    public static let defaultCPUs = 1.0
    public static let defaultMemMiB = 128.0

    public init(cpus: Double = ResourceRequest.defaultCPUs, memMiB: Double = ResourceRequest.defaultMemMiB, diskMiB: Double = 0, gpus: Int = 0) {
        self.cpus = cpus
        self.memMiB = memMiB
        self.diskMiB = diskMiB
        self.gpus = gpus
    }

    /// The request as Mesos scalar resources (zero scalars dropped).
    public var resources: Resources {
        var list: [Resource] = [.scalar("cpus", cpus), .scalar("mem", memMiB)]
        if diskMiB > 0 { list.append(.scalar("disk", diskMiB)) }
        if gpus > 0 { list.append(.scalar("gpus", Double(gpus))) }
        return Resources(list)
    }
}

/// `spec.network`: `host` (the default: the task shares the agent's network), `bridge`, or a CNI network's name.
public struct NetworkSpec: Sendable, Hashable {
    /// The network the ports are mapped on (the first one named).
    public var name: String
    public var ports: [PortSpec]
    /// Further CNI networks the task joins (`name: [frontend, storage]`), in order: `eth1`, `eth2` …
    public var additional: [String] = []

    public static let host = "host"
    public static let bridge = "bridge"
    /// The agents' built-in CNI network, which `bridge` names.
    public static let builtInCNINetwork = "capstan"

    /// The CNI network a task joins first: none on `host`, the built-in one for `bridge`, else the network named.
    public var cniNetwork: String? { Self.cniName(of: name) }

    /// Every CNI network the task joins, in order (the first carries the port mappings).
    public var cniNetworks: [String] { ([name] + additional).compactMap(Self.cniName(of:)) }

    static func cniName(of name: String) -> String? {
        switch name {
        case Self.host: nil
        case Self.bridge: Self.builtInCNINetwork
        default: name
        }
    }

    /// Whether `name` can name a network: `host`, `bridge`, or a CNI network name (letters, digits, `_`, `.`, `-`,
    /// starting with a letter or digit, at most 128 bytes).
    public static func isValidName(_ name: String) -> Bool {
        func alphanumeric(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) }
        guard let first = name.unicodeScalars.first, name.utf8.count <= 128, alphanumeric(first) else { return false }
        return name.unicodeScalars.allSatisfy { alphanumeric($0) || $0 == "_" || $0 == "." || $0 == "-" }
    }

    public init(name: String = NetworkSpec.host, ports: [PortSpec] = [], additional: [String] = []) {
        self.name = name
        self.ports = ports
        self.additional = additional
    }
}

/// A named port. In host networking `host` is the port the task binds (0: any port from the offer);
/// in other networks `container` is the port inside the container and `host` the mapped agent port.
public struct PortSpec: Sendable, Hashable {
    public enum TransportProtocol: String, Sendable, Hashable, CaseIterable { case tcp, udp }

    public var name: String
    public var container: Int?
    public var host: Int
    public var `protocol`: TransportProtocol

    public init(name: String, container: Int? = nil, host: Int = 0, protocol: TransportProtocol = .tcp) {
        self.name = name
        self.container = container
        self.host = host
        self.protocol = `protocol`
    }
}

/// A volume mounted at `path` inside the task.
public struct VolumeSpec: Sendable, Hashable {
    public enum Source: Sendable, Hashable {
        /// A persistent volume of each instance, reserved on the agent that runs it and kept across restarts,
        /// updates, scale-downs and the app's removal from git. `destroy` (`destroy: confirm` in the manifest) is
        /// the explicit word that deletes its data: no instance mounts it any more, and every one of the app's
        /// volumes at this path is destroyed once no task uses it.
        case persistent(sizeMiB: Double, destroy: Bool = false)
        /// A path on the agent.
        case host(String)
        /// A Docker volume plugin's volume.
        case docker(driver: String, name: String)
    }

    public var path: String
    public var source: Source
    public var readOnly: Bool

    public init(path: String, source: Source, readOnly: Bool = false) {
        self.path = path
        self.source = source
        self.readOnly = readOnly
    }
}

/// A port by name (one of `spec.network.ports`) or by number.
public enum PortReference: Sendable, Hashable {
    case name(String)
    case number(Int)
}

/// `spec.health`: one check, and how often and how forgivingly it runs.
public struct HealthCheckSpec: Sendable, Hashable {
    public enum Check: Sendable, Hashable {
        case http(port: PortReference, path: String)
        case tcp(port: PortReference)
        case command([String])
    }

    public var check: Check
    public var interval: Duration
    public var timeout: Duration
    /// Failures during this time after start do not count.
    public var gracePeriod: Duration
    /// Consecutive failures after which the task is killed.
    public var maxFailures: Int

    public init(
        check: Check, interval: Duration = .seconds(10), timeout: Duration = .seconds(5),
        gracePeriod: Duration = .seconds(30), maxFailures: Int = 3
    ) {
        self.check = check
        self.interval = interval
        self.timeout = timeout
        self.gracePeriod = gracePeriod
        self.maxFailures = maxFailures
    }
}

/// A number of instances, absolute or as a share of `instances`.
public enum InstanceAmount: Sendable, Hashable, CustomStringConvertible {
    case count(Int)
    /// 0 to 100.
    case percent(Double)

    /// The amount for an app of `instances` instances; percentages round up.
    public func resolved(instances: Int) -> Int {
        switch self {
        case .count(let n): return n
        case .percent(let p): return Int((Double(instances) * p / 100).rounded(.up))
        }
    }

    public var description: String {
        switch self {
        case .count(let n): return "\(n)"
        case .percent(let p): return "\(CanonicalValue.formatNumber(p))%"
        }
    }
}

/// `spec.update`: how an App is replaced when its spec changes (Marathon's upgradeStrategy).
public struct UpdateStrategy: Sendable, Hashable {
    /// Instances that must stay healthy during the update.
    public var minHealthy: InstanceAmount
    /// Instances that may run above `instances` during the update.
    public var maxSurge: InstanceAmount
    /// An update that makes no progress for this long is marked failed.
    public var progressDeadline: Duration
    /// When an update fails its deadline, roll the app back to the last commit it converged at.
    public var autoRevert: Bool

    public init(
        minHealthy: InstanceAmount = .percent(100), maxSurge: InstanceAmount = .count(1),
        progressDeadline: Duration = .seconds(600), autoRevert: Bool = false
    ) {
        self.minHealthy = minHealthy
        self.maxSurge = maxSurge
        self.progressDeadline = progressDeadline
        self.autoRevert = autoRevert
    }
}

/// `spec.backoff`: the delay before relaunching a failed task grows by `factor` from `delay` up to `max`.
public struct RestartBackoff: Sendable, Hashable {
    public var delay: Duration
    public var factor: Double
    public var max: Duration

    public init(delay: Duration = .seconds(1), factor: Double = 1.15, max: Duration = .seconds(300)) {
        self.delay = delay
        self.factor = factor
        self.max = max
    }
}

/// A placement rule on an agent attribute; the attribute `hostname` means the agent's hostname.
public struct Constraint: Sendable, Hashable {
    public enum Operator: Sendable, Hashable {
        /// No two instances on agents with the same value.
        case unique
        /// Only agents whose value is exactly this.
        case equals(String)
        /// Only agents whose value matches this regular expression (whole value).
        case like(String)
        /// At most this many instances per distinct value.
        case maxPer(Int)
    }

    public var attribute: String
    public var op: Operator

    public static let hostname = "hostname"

    public init(attribute: String, _ op: Operator) {
        self.attribute = attribute
        self.op = op
    }
}
