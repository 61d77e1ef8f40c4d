import CapstanAuth
import CapstanContainerizer
import CapstanCore
import CapstanHTTP
import CapstanAPIClient
import CapstanImage
import Logging

/// Everything an agent needs to start; the CLI fills it from flags.
public struct AgentConfiguration: Sendable {
    /// Where the agent's HTTP API listens (`--listen`, default 127.0.0.1:5051).
    public var listen: HostPort
    /// The address advertised to the master and executors; defaults to `listen`.
    public var advertise: HostPort?
    /// The master (`--master HOST:PORT`).
    public var master: HostPort
    /// Sandboxes and checkpoints live here (`--work-dir`).
    public var workDir: String
    /// The image store; nil is `<work-dir>/images`, where `capstan image` and `capstan container run` with the same
    /// `--work-dir` keep theirs. `capstan up` points its agent at `<work-dir>/images` of its own work dir, so one work
    /// dir has one store.
    public var imageStoreDirectory: String?
    /// The image store the agent uses.
    public var imagesDirectory: String { imageStoreDirectory ?? workDir + "/images" }
    /// Resources offered (`--resources`); nil detects them from the machine.
    public var resources: Resources
    /// Attributes (`--attributes "zone:a;rack:1"`).
    public var attributes: [Attribute]
    public var hostname: String
    /// How long an executor may take to SUBSCRIBE before it is killed.
    public var executorRegistrationTimeout: Duration
    /// Grace period for a kill when the task names none.
    public var defaultKillGracePeriod: Duration
    /// First retry interval of an unacknowledged status update; doubles up to `statusUpdateRetryMax`.
    public var statusUpdateRetryInterval: Duration
    public var statusUpdateRetryMax: Duration
    /// Longest wait between registration attempts.
    public var registrationBackoffMax: Duration
    /// How images that tasks name are pulled (`--insecure-registry`, `--registry-config`, `--registry-ca`).
    public var registry: RegistryOptions
    /// How far the layers of an image that a task names may expand (`--max-layer-size`, `--max-image-size`).
    public var imageLimits: LayerLimits
    /// The most processes one container (a command task, an executor or a task from an image) may have
    /// (`--container-pids-max`, the cgroups/pids limit); nil = no limit.
    public var containerPidsMax: Int?
    /// The agent's principal and secret (`--credential`): it signs every call to the master, and the master's calls
    /// to this agent must be signed with it. nil means no authentication, which the CLI allows only with `--insecure`.
    public var credential: CredentialSet.Credential?
    /// Operator API and sandbox files need credentials (`--authenticate-http` with `--credentials`); nil: open.
    public var httpAuthenticator: HTTPAuthenticator?
    /// `--authenticate-http-executors`: executor API calls need the executor's own token (Mesos'
    /// `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`, sent as a bearer token); otherwise 401.
    public var authenticateExecutors = false
    /// HTTPS for the agent's API (`--tls-cert`, `--tls-key`, `--tls-ca`); nil serves plain HTTP.
    public var tls: ServerTLS?
    /// How the agent reaches the master over HTTPS; nil: plain HTTP.
    public var clientTLS: ClientTLS?
    /// Mesos' `--switch_user` (`--switch-user`, on by default): tasks and executors run as `CommandInfo.user`, else
    /// `FrameworkInfo.user`. Off: they run as the agent's own user (a task from an image: as the image's USER).
    public var switchUser: Bool
    /// Per-client bounds of the HTTP server and of executor SUBSCRIBE streams (`--max-connections-per-peer` and others).
    public var connectionLimits = ConnectionLimits()
    /// CNI networks (`--network-cni-config-dir`, `--network-cni-plugins-dir`, `--default-network-subnet`).
    public var network = NetworkConfiguration()
    /// Which host paths tasks may mount as volumes (`--allowed-host-paths`; none by default), and what no volume may
    /// expose (the work dir, the agent's credential and key files).
    public var hostPaths = HostPathPolicy.none
    /// Where Docker volume plugins are discovered (`--docker-volume-plugins-root`; default `/`: /run/docker/plugins,
    /// /etc/docker/plugins, /usr/lib/docker/plugins).
    public var dockerVolumePlugins = DockerPluginDirectories.standard
    /// The `disk/du` isolator (`--container-disk-watch-interval`, `--enforce-container-disk-quota`).
    public var diskUsage = DiskUsageIsolator.Options()
    /// Project IDs for `disk/xfs` (`--xfs-project-range`, Mesos' default `[5000-10000]`).
    public var xfsProjectRange = ProjectIDRange.default
    /// Which isolators run (`--isolation`); by default every cgroup isolator available and `disk/du`.
    public var isolation = IsolationSelection.default
    /// The GPUs this agent offers as `gpus` (with `gpu/nvidia`), as NVML reported them at start.
    public var gpus: [GPUDevice] = []
    /// The NVML library (`--nvml-library`) asked for the GPUs' memory and utilisation in GET_CONTAINERS.
    public var nvmlLibrary = NVMLLibrary.defaultPath
    /// The driver version NVML reported at start (with `gpu/nvidia`); it names the driver volume. nil: no volume.
    public var nvidiaDriverVersion: String?
    /// Where the driver volume's files are looked for (`--nvidia-driver-dir`, else the host's PATH and libraries).
    public var nvidiaDriverSource = NvidiaDriverVolume.Source.host(
        nvmlLibrary: NVMLLibrary.defaultPath, path: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    /// The CDI specs read at start (`--cdi-spec-dirs`); their devices are advertised as ``AgentAttribute/cdiDevices``.
    public var cdi = CDIRegistry(directories: [], specFiles: [])

    /// Where the agent's CNI networks come from.
    public struct NetworkConfiguration: Sendable {
        /// The operator's network configurations (`.conf`, `.conflist`, `.json`); nil: none.
        public var configDirectory: String?
        /// Where plugins are looked for, in order (Debian's, then the CNI project's default).
        public var pluginDirectories = ["/usr/lib/cni", "/opt/cni/bin"]
        /// The built-in `capstan` network (bridge, host-local, portmap); nil: none.
        public var builtIn: BuiltInNetwork?

        public init(configDirectory: String? = nil, pluginDirectories: [String] = ["/usr/lib/cni", "/opt/cni/bin"], builtIn: BuiltInNetwork? = nil) {
            self.configDirectory = configDirectory
            self.pluginDirectories = pluginDirectories
            self.builtIn = builtIn
        }

        /// Whether the agent has any CNI network to offer.
        public var isEnabled: Bool { configDirectory != nil || builtIn != nil }
    }

    /// The master an agent registers with unless told otherwise (and its placeholder when `--master` names etcd,
    /// where the leader is asked for each registration).
    public static let defaultMaster = HostPort(host: "127.0.0.1", port: 5050)

    public init(
        listen: HostPort = HostPort(host: "127.0.0.1", port: 5051),
        advertise: HostPort? = nil,
        master: HostPort = AgentConfiguration.defaultMaster,
        workDir: String,
        resources: Resources,
        attributes: [Attribute] = [],
        hostname: String = "localhost",
        executorRegistrationTimeout: Duration = .seconds(60),
        defaultKillGracePeriod: Duration = .seconds(3),
        statusUpdateRetryInterval: Duration = .seconds(2),
        statusUpdateRetryMax: Duration = .seconds(60),
        registrationBackoffMax: Duration = .seconds(2),
        registry: RegistryOptions = RegistryOptions(),
        imageLimits: LayerLimits = LayerLimits(),
        containerPidsMax: Int? = 4096,
        switchUser: Bool = true,
        credential: CredentialSet.Credential? = nil,
        httpAuthenticator: HTTPAuthenticator? = nil
    ) {
        self.credential = credential
        self.httpAuthenticator = httpAuthenticator
        self.listen = listen
        self.advertise = advertise
        self.master = master
        self.workDir = workDir
        self.resources = resources
        self.attributes = attributes
        self.hostname = hostname
        self.executorRegistrationTimeout = executorRegistrationTimeout
        self.defaultKillGracePeriod = defaultKillGracePeriod
        self.statusUpdateRetryInterval = statusUpdateRetryInterval
        self.statusUpdateRetryMax = statusUpdateRetryMax
        self.registrationBackoffMax = registrationBackoffMax
        self.registry = registry
        self.imageLimits = imageLimits
        self.containerPidsMax = containerPidsMax
        self.switchUser = switchUser
    }

    /// The flags as GET_FLAGS reports them.
    public var flags: [(String, String)] {
        [
            ("listen", listen.description), ("master", master.description), ("work_dir", workDir),
            ("resources", resources.description), ("hostname", hostname),
            ("executor_registration_timeout", "\(executorRegistrationTimeout.seconds)secs"),
            ("insecure_registries", registry.insecureRegistries.sorted().joined(separator: ",")),
            ("container_pids_max", containerPidsMax.map(String.init) ?? "none"),
            ("container_disk_watch_interval", "\(diskUsage.interval.seconds)secs"),
            ("enforce_container_disk_quota", diskUsage.enforce ? "true" : "false"),
            ("xfs_project_range", xfsProjectRange.description),
            ("authenticatee", credential.map { "signed as \($0.principal)" } ?? "none"),
            ("authenticate_http_readwrite", httpAuthenticator == nil ? "false" : "true"),
            ("authenticate_http_executors", authenticateExecutors ? "true" : "false"),
            ("max_layer_size", LayerLimits.describe(imageLimits.maxLayerSize)),
            ("max_image_size", LayerLimits.describe(imageLimits.maxImageSize)),
            ("switch_user", switchUser ? "true" : "false"),
            ("network_cni_config_dir", network.configDirectory ?? ""),
            ("network_cni_plugins_dir", network.pluginDirectories.joined(separator: ":")),
            ("default_network_subnet", network.builtIn.map { "\($0.subnet) (bridge \($0.bridge))" } ?? "none"),
            ("allowed_host_paths", hostPaths.allowedRoots.joined(separator: ",")),
            ("docker_volume_plugins", ([dockerVolumePlugins.sockets] + dockerVolumePlugins.specs).joined(separator: ":")),
        ]
    }
}
