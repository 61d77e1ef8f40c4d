public import CapstanCore

/// Resource limits of a container, as isolators enforce them. `nil` means unlimited.
///
/// Kept apart from Core's `Resources` on purpose: isolators only need these numbers.
public struct ResourceLimits: Sendable, Hashable, Codable {
    /// CPU shares in cores (e.g. `0.5`).
    public var cpus: Double?
    /// Memory limit in bytes.
    public var memBytes: UInt64?
    /// The most processes (and threads) the container may have at once (`pids.max`); `nil` leaves the
    /// ``CgroupsPIDsIsolator``'s default.
    public var maxProcesses: Int?
    /// Disk space of the sandbox and the writable rootfs layer, in bytes (the task's `disk`); ``DiskUsageIsolator``
    /// reports usage against it and, when enforcing, kills the container past it.
    public var diskBytes: UInt64?
    /// Whole GPUs the container asks for (its `gpus` resource); the `gpu/nvidia` isolator assigns them.
    public var gpus: Int?

    /// Creates limits; all default to unlimited.
    public init(cpus: Double? = nil, memBytes: UInt64? = nil, maxProcesses: Int? = nil, diskBytes: UInt64? = nil, gpus: Int? = nil) {
        self.gpus = gpus
        self.cpus = cpus
        self.memBytes = memBytes
        self.maxProcesses = maxProcesses
        self.diskBytes = diskBytes
    }
}

/// The root filesystem of a container launched by ``LinuxLauncher``.
public enum RootfsSpec: Sendable, Hashable, Codable {
    /// Read-only layer directories (absolute paths), bottom-first, shared between containers: the container gets an
    /// overlay with a private upper dir, or a private copy when overlayfs is unavailable. Never written to.
    case layers([String])
    /// A plain directory used as the root as it is (bind-mounted, writable: the container's writes land in it).
    case directory(String)
}

/// A host path bind-mounted into a container.
public struct BindMountSpec: Sendable, Hashable, Codable {
    /// Host path, a file or a directory.
    public var source: String
    /// Absolute path inside the container; created when missing.
    public var target: String
    /// Mounted read-only.
    public var readOnly: Bool
    /// The source was resolved by the agent (a volume): any symlink on it now was put there since, so `capstan-init`
    /// refuses it rather than follow it.
    public var refusesSymlinks: Bool
    /// A directory the agent made in the container's sandbox: handed to the task's user with the sandbox.
    public var handedToTask: Bool

    /// Creates a bind mount.
    public init(source: String, target: String, readOnly: Bool = false, refusesSymlinks: Bool = false, handedToTask: Bool = false) {
        self.source = source
        self.target = target
        self.readOnly = readOnly
        self.refusesSymlinks = refusesSymlinks
        self.handedToTask = handedToTask
    }

    private enum CodingKeys: String, CodingKey { case source, target, readOnly, refusesSymlinks, handedToTask }

    /// Decodes a mount; checkpoints from before volumes lack the last two fields.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        source = try container.decode(String.self, forKey: .source)
        target = try container.decode(String.self, forKey: .target)
        readOnly = try container.decodeIfPresent(Bool.self, forKey: .readOnly) ?? false
        refusesSymlinks = try container.decodeIfPresent(Bool.self, forKey: .refusesSymlinks) ?? false
        handedToTask = try container.decodeIfPresent(Bool.self, forKey: .handedToTask) ?? false
    }
}

/// The network a container sees.
public enum NetworkMode: String, Sendable, Hashable, Codable {
    /// The host's network namespace (Mesos' default for a command task without a network).
    case host
    /// A network namespace of its own with only a loopback interface (CNI attaches networks to it).
    case isolated
}

/// The process configuration of an OCI/Docker image (its `config` object), applied by ``LinuxLauncher``.
public struct ImageProcessConfig: Sendable, Hashable, Codable {
    public var entrypoint: [String]
    public var cmd: [String]
    /// `NAME=value` entries.
    public var env: [String]
    public var workingDir: String?
    public var user: String?
    /// The image's labels; nil when it has none (and in checkpoints from before labels were kept).
    public var labels: [String: String]?

    /// Creates an image process configuration.
    public init(
        entrypoint: [String] = [], cmd: [String] = [], env: [String] = [], workingDir: String? = nil, user: String? = nil,
        labels: [String: String]? = nil
    ) {
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.env = env
        self.workingDir = workingDir
        self.user = user
        self.labels = labels
    }
}

/// Everything needed to start one container.
public struct ContainerConfig: Sendable, Hashable, Codable {
    /// The container's identity on this agent.
    public var containerID: ContainerID
    /// What the first process runs.
    public var command: CommandSpec
    /// An existing directory: the process starts there, and its stdout and stderr are appended
    /// to `stdout` and `stderr` inside it (created if missing). With a ``rootfs`` it is bind-mounted at
    /// `/mnt/mesos/sandbox` (and `MESOS_SANDBOX` points there).
    public var sandboxDirectory: String
    /// Limits for the isolators.
    public var limits: ResourceLimits

    // The fields below are used by ``LinuxLauncher`` only; ``PosixLauncher`` ignores them.

    /// The image to run from: the containerizer's ``Provisioner`` resolves it to ``rootfs`` and ``imageConfig`` at
    /// launch (and releases its layers when the container is cleaned up). Needs a containerizer with a provisioner.
    public var image: ContainerImage?
    /// The root filesystem; `nil` keeps the host's filesystem (still in private namespaces). Set from ``image`` at launch.
    public var rootfs: RootfsSpec?
    /// The image's process configuration (entrypoint/cmd, env, working dir, user), applied under the command's. Set
    /// from ``image`` at launch when `nil`.
    public var imageConfig: ImageProcessConfig?
    /// The hostname inside the container's UTS namespace; `nil` uses the container ID.
    public var hostname: String?
    /// Host or a network namespace of its own.
    public var networkMode: NetworkMode
    /// Extra bind mounts (after the sandbox), e.g. host-path volumes.
    public var mounts: [BindMountSpec]
    /// The working directory inside the container; `nil` takes the image's, then the sandbox mount point.
    public var workingDirectory: String?
    /// The CNI networks it joins, in order (`eth0`, `eth1` …); needs ``networkMode`` `.isolated`.
    public var networks: [ContainerNetwork] = []
    /// Host-path and sandbox-path volumes, mounted in order after ``mounts`` (the `volume/path` isolator).
    public var volumes: [ContainerVolume] = []
    /// The GPUs the `gpu/nvidia` isolator assigned at launch (checkpointed, so recovery holds them again).
    public var gpus: [GPUDevice] = []
    /// Device nodes made in the container's own `/dev` (image containers), e.g. its `/dev/nvidiaN`, and allowed by
    /// its device policy.
    public var deviceNodes: [DeviceNodeSpec] = []
    /// The CDI devices the task asks for (its ``TaskLabel/cdiDevices`` label); the `devices/cdi` isolator adds those
    /// the image's `cdi.k8s.io/…` labels name, and applies them all.
    public var cdiDevices: [CDIDeviceName] = []
    /// Supplementary groups added to the task's process (CDI `additionalGids`), after its user's own.
    public var additionalGids: [UInt32] = []

    /// Creates a configuration.
    public init(
        containerID: ContainerID, command: CommandSpec, sandboxDirectory: String, limits: ResourceLimits = ResourceLimits(),
        image: ContainerImage? = nil, rootfs: RootfsSpec? = nil, imageConfig: ImageProcessConfig? = nil, hostname: String? = nil,
        networkMode: NetworkMode = .isolated, mounts: [BindMountSpec] = [], workingDirectory: String? = nil, volumes: [ContainerVolume] = []
    ) {
        self.volumes = volumes
        self.containerID = containerID
        self.command = command
        self.sandboxDirectory = sandboxDirectory
        self.limits = limits
        self.image = image
        self.rootfs = rootfs
        self.imageConfig = imageConfig
        self.hostname = hostname
        self.networkMode = networkMode
        self.mounts = mounts
        self.workingDirectory = workingDirectory
    }

    /// What in this container needs namespaces and mounts that only the Linux launcher (`capstan-init`) makes — its
    /// networks' `/etc` files, its volumes, its CDI devices' mounts and groups — in words for an error
    /// (`names CNI networks`); nil when nothing does.
    public var linuxLauncherNeed: String? {
        if !networks.isEmpty { return "names CNI networks" }
        if !volumes.isEmpty { return "has volumes" }
        if !cdiDevices.isEmpty { return "asks for CDI devices" }
        return nil
    }

    private enum CodingKeys: String, CodingKey {
        case containerID, command, sandboxDirectory, limits, rootfs, hostname, networkMode, mounts, workingDirectory, networks, volumes, gpus, deviceNodes,
            cdiDevices, additionalGids
        /// `image` held the process configuration in checkpoints before images were provisioned by the containerizer.
        case imageConfig = "image"
        case image = "imageReference"
    }

    /// Decodes a configuration; fields added after the first release may be missing (older checkpoints).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        containerID = try container.decode(ContainerID.self, forKey: .containerID)
        command = try container.decode(CommandSpec.self, forKey: .command)
        sandboxDirectory = try container.decode(String.self, forKey: .sandboxDirectory)
        limits = try container.decodeIfPresent(ResourceLimits.self, forKey: .limits) ?? ResourceLimits()
        rootfs = try container.decodeIfPresent(RootfsSpec.self, forKey: .rootfs)
        image = try container.decodeIfPresent(ContainerImage.self, forKey: .image)
        imageConfig = try container.decodeIfPresent(ImageProcessConfig.self, forKey: .imageConfig)
        hostname = try container.decodeIfPresent(String.self, forKey: .hostname)
        networkMode = try container.decodeIfPresent(NetworkMode.self, forKey: .networkMode) ?? .isolated
        mounts = try container.decodeIfPresent([BindMountSpec].self, forKey: .mounts) ?? []
        workingDirectory = try container.decodeIfPresent(String.self, forKey: .workingDirectory)
        networks = try container.decodeIfPresent([ContainerNetwork].self, forKey: .networks) ?? []
        volumes = try container.decodeIfPresent([ContainerVolume].self, forKey: .volumes) ?? []
        gpus = try container.decodeIfPresent([GPUDevice].self, forKey: .gpus) ?? []
        deviceNodes = try container.decodeIfPresent([DeviceNodeSpec].self, forKey: .deviceNodes) ?? []
        cdiDevices = try container.decodeIfPresent([CDIDeviceName].self, forKey: .cdiDevices) ?? []
        additionalGids = try container.decodeIfPresent([UInt32].self, forKey: .additionalGids) ?? []
    }
}
