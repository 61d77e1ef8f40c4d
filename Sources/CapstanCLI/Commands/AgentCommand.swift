import ArgumentParser
import CapstanAuth
import CapstanAgent
import CapstanAPIClient
import CapstanContainerizer
import CapstanCore
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// Options that configure an agent; shared by `capstan agent` and `capstan up`.
struct AgentOptions: ParsableArguments {
    @Option(help: "Resources to offer, e.g. \"cpus:2;mem:1024;disk:4096;ports:[31000-32000]\"; the rest is detected.")
    var resources: String?

    @Option(help: "Agent attributes, e.g. \"zone:a;rack:1\".")
    var attributes: String?

    @Option(help: "How long an executor may take to subscribe before it is killed.")
    var executorRegistrationTimeout: String = "1mins"

    @Option(help: "First retry interval of an unacknowledged status update (doubles up to 1 minute).")
    var statusUpdateRetryInterval: String = "2secs"

    @Option(help: "The most processes one container (a command task, an executor or a task from an image) may have (cgroups pids.max); 0 = no limit.")
    var containerPidsMax: Int = 4096

    @Flag(name: .customLong("authenticate-http-executors"),
        help: "Executors must send their MESOS_EXECUTOR_AUTHENTICATION_TOKEN as a bearer token on the executor API.")
    var authenticateHTTPExecutors = false
    @Flag(
        inversion: .prefixedNo,
        help: """
            Run tasks and executors as their CommandInfo.user, else their framework's FrameworkInfo.user (Mesos' \
            --switch_user); with --no-switch-user they run as the agent's user (an image task: as the image's USER).
            """)
    var switchUser = true

    @Option(help: ArgumentHelp("Directory of CNI network configurations (.conf, .conflist, .json), re-read when it changes.", valueName: "dir"))
    var networkCniConfigDir: String?

    @Option(help: ArgumentHelp("Where CNI plugins are looked for, a colon-separated list.", valueName: "dirs"))
    var networkCniPluginsDir: String = "/usr/lib/cni:/opt/cni/bin"

    @Option(help: ArgumentHelp(
        "Subnet of the built-in 'capstan' network (bridge + host-local with leases on tmpfs + portmap), which manifests name as 'bridge'; 'none': no built-in network. Default: none for capstan agent, \(AgentOptions.upDefaultSubnet) for capstan up.",
        valueName: "cidr"))
    var defaultNetworkSubnet: String?

    /// The built-in network's subnet under `capstan up` (Nomad's bridge default), so networked apps run with no set-up.
    static let upDefaultSubnet = "172.26.64.0/20"

    @Option(help: ArgumentHelp("Linux bridge of the built-in network.", valueName: "name"))
    var defaultNetworkBridge: String = "capstan0"

    @Option(help: ArgumentHelp(
        "Host directories whose contents tasks may mount as host-path volumes, comma-separated (symlinks are resolved before the check; none by default).",
        valueName: "dirs"))
    var allowedHostPaths: String?

    @Option(help: ArgumentHelp(
        "Root under which Docker volume plugins are discovered: its run/docker/plugins (sockets), etc/docker/plugins and usr/lib/docker/plugins (.spec, .json).",
        valueName: "dir"))
    var dockerVolumePluginsRoot: String = "/"

    @Option(help: ArgumentHelp(
        "Isolators to run, comma-separated, among \(IsolationSelection.selectable.joined(separator: ", ")) (one disk isolator). Default: every cgroup isolator this machine offers and disk/du. disk/xfs needs the work dir on XFS (-o prjquota) or ext4 (-O project, -o prjquota); the agent refuses to start, saying what is missing, otherwise.",
        valueName: "names"))
    var isolation: String?

    @Option(help: ArgumentHelp(
        "With gpu/nvidia in --isolation: the GPUs to offer, as NVML indices (e.g. 0,1), with as many gpus in --resources. Default: every GPU NVML reports.",
        valueName: "indices"))
    var nvidiaGpuDevices: String?

    @Option(help: ArgumentHelp("The NVML library gpu/nvidia loads (dlopen).", valueName: "path"))
    var nvmlLibrary: String = NVMLLibrary.defaultPath

    @Option(help: ArgumentHelp(
        "With gpu/nvidia: the driver's root, whose bin/ (nvidia-smi, …) and lib*/ (libcuda, libnvidia-ml, …) fill the driver volume image tasks get at /usr/local/nvidia. Default: the utilities on PATH and the libraries ldconfig knows (and those beside --nvml-library).",
        valueName: "dir"))
    var nvidiaDriverDir: String?

    @Option(help: ArgumentHelp(
        "Directories of CDI specs (.json, .yaml), comma-separated; a device in a later one wins. Their devices are advertised as the cdi_devices attribute.",
        valueName: "dirs"))
    var cdiSpecDirs: String = CDIRegistry.defaultDirectories.joined(separator: ",")

    @OptionGroup(title: "Registries (images that tasks name are pulled on first use)")
    var registry: RegistryFlags

    @OptionGroup(title: "Disk usage (disk/du)")
    var disk: DiskFlags

    /// - Parameters:
    ///   - defaultSubnet: the built-in network's subnet when `--default-network-subnet` is not given.
    ///   - protectedPaths: files and directories no volume may expose, besides `workDir` (credentials, keys).
    func configuration(
        listen: HostPort, master: HostPort, workDir: String, defaultSubnet: String = "none", protectedPaths: [String] = []
    ) throws -> AgentConfiguration {
        var configuration = AgentConfiguration(
            listen: listen, master: master, workDir: workDir,
            resources: try FlagParsing.resources(resources, workDir: workDir),
            attributes: try FlagParsing.attributes(attributes),
            hostname: ProcessInfo.processInfo.hostName,
            executorRegistrationTimeout: try FlagParsing.duration(executorRegistrationTimeout, flag: "--executor-registration-timeout"),
            statusUpdateRetryInterval: try FlagParsing.duration(statusUpdateRetryInterval, flag: "--status-update-retry-interval"),
            registry: try registry.options(),
            imageLimits: try registry.layerLimits.limits(),
            containerPidsMax: try pidsMax(), switchUser: switchUser)
        configuration.authenticateExecutors = authenticateHTTPExecutors
        configuration.network = try network(subnet: defaultNetworkSubnet ?? defaultSubnet)
        guard dockerVolumePluginsRoot.hasPrefix("/") else {
            throw ValidationError("--docker-volume-plugins-root '\(dockerVolumePluginsRoot)' must be an absolute directory")
        }
        configuration.dockerVolumePlugins = .under(dockerVolumePluginsRoot)
        let roots = (allowedHostPaths ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        do {
            configuration.hostPaths = try HostPathPolicy(
                allowedRoots: roots, protectedPaths: [workDir] + protectedPaths.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
        } catch {
            throw ValidationError(error.message)
        }
        configuration.diskUsage = try disk.options()
        configuration.xfsProjectRange = try disk.projectRange()
        if let isolation {
            do { configuration.isolation = try IsolationSelection(parsing: isolation) } catch { throw ValidationError(error.message) }
        }
        try chooseGPUs(&configuration)
        let cdiDirectories = cdiSpecDirs.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard cdiDirectories.allSatisfy({ $0.hasPrefix("/") }) else {
            throw ValidationError("--cdi-spec-dirs '\(cdiSpecDirs)' must be absolute directories separated by ','")
        }
        configuration.cdi = CDIRegistry.load(directories: cdiDirectories)
        return configuration
    }

    /// With `gpu/nvidia`: the GPUs NVML reports (all, or `--nvidia-gpu-devices`), offered as `gpus`.
    private func chooseGPUs(_ configuration: inout AgentConfiguration) throws {
        let requested = configuration.resources.entries.contains { $0.name == "gpus" } ? configuration.resources.gpus : nil
        let library = nvmlLibrary
        configuration.nvmlLibrary = library
        var driverVersion: String?
        do {
            configuration.gpus = try GPUSelection.choose(
                isolated: configuration.isolation.includes("gpu/nvidia"), devices: try nvidiaGpuDevices.map { text throws(CapstanError) in try GPUSelection.parseDevices(text) },
                requested: requested
            ) { () throws(CapstanError) in
                let inventory = try NVMLLibrary.inventory(library: library)
                driverVersion = inventory.driverVersion
                return inventory
            }
        } catch {
            throw ValidationError(error.message)
        }
        configuration.nvidiaDriverVersion = driverVersion
        if let nvidiaDriverDir {
            guard nvidiaDriverDir.hasPrefix("/") else { throw ValidationError("--nvidia-driver-dir '\(nvidiaDriverDir)' must be an absolute directory") }
            configuration.nvidiaDriverSource = .root(nvidiaDriverDir)
        } else {
            configuration.nvidiaDriverSource = .host(
                nvmlLibrary: library, path: ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        }
        if requested == nil && !configuration.gpus.isEmpty {
            configuration.resources += Resources([.scalar("gpus", Double(configuration.gpus.count))])
        }
    }

    private func network(subnet: String) throws -> AgentConfiguration.NetworkConfiguration {
        let plugins = networkCniPluginsDir.split(separator: ":").map(String.init)
        guard !plugins.isEmpty, plugins.allSatisfy({ $0.hasPrefix("/") }) else {
            throw ValidationError("--network-cni-plugins-dir '\(networkCniPluginsDir)' must be absolute directories separated by ':'")
        }
        var configDirectory = networkCniConfigDir.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        if let directory = configDirectory {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--network-cni-config-dir '\(directory)' is not a directory")
            }
            configDirectory = directory
        }
        let builtIn = subnet == "none" ? nil : try Self.builtInNetwork(subnet: subnet, bridge: defaultNetworkBridge)
        return .init(configDirectory: configDirectory, pluginDirectories: plugins, builtIn: builtIn)
    }

    private static func builtInNetwork(subnet: String, bridge: String) throws -> BuiltInNetwork {
        let parsed: IPv4Subnet
        do { parsed = try IPv4Subnet(subnet, flag: "--default-network-subnet") } catch { throw ValidationError(error.message) }
        do { return try BuiltInNetwork(subnet: parsed, bridge: bridge) } catch { throw ValidationError(error.message) }
    }

    private func pidsMax() throws -> Int? {
        guard containerPidsMax >= 0 else { throw ValidationError("--container-pids-max must be 0 (no limit) or more, not \(containerPidsMax)") }
        return containerPidsMax == 0 ? nil : containerPidsMax
    }
}

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run an agent: registers with a master, runs tasks, serves the executor API and sandbox files.")

    @Option(help: "The master to register with: HOST:PORT; several (comma-separated) masters on etcd, to follow whichever leads (asked through /redirect); or etcd://HOST:PORT,…/PREFIX, the leader named in etcd.")
    var master: String = "127.0.0.1:5050"

    @Option(help: "Address the agent's HTTP API listens on (port 0: the kernel picks one, which the agent registers with; see --listen-file).")
    var listen: String = "127.0.0.1:5051"

    @Option(help: ArgumentHelp(ListenFile.help, valueName: "path"))
    var listenFile: String?

    @Option(help: "Directory for sandboxes and checkpoints; keep it across restarts to keep the agent ID.")
    var workDir: String = ".capstan/agent"

    @Option(help: ArgumentHelp(
        "This agent's principal and secret (one entry, same formats as --credentials), listed in the master's --agent-credentials. Required unless --insecure.",
        valueName: "file"))
    var credential: String?

    @OptionGroup(title: "Authentication") var auth: HTTPAuthFlags
    @OptionGroup(title: "TLS") var tls: TLSFlags
    @OptionGroup var agent: AgentOptions
    @OptionGroup(title: "Client limits") var limits: ConnectionLimitOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if credential == nil && !auth.insecure {
            throw ValidationError(
                "capstan agent: the agent must authenticate to the master: pass --credential FILE (a principal and secret the master's "
                    + "--agent-credentials lists), or --insecure to run tasks for anyone who reaches the port")
        }
    }

    func run() async throws {
        _ = try logging.bootstrap()
        let logger = logging.logger("capstan.agent")
        let workDir = URL(fileURLWithPath: self.workDir).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        let address = try FlagParsing.hostPort(listen, flag: "--listen")
        let masters = try FlagParsing.masterAddress(master, flag: "--master")
        var config = try agent.configuration(
            listen: address, master: masters.first ?? AgentConfiguration.defaultMaster, workDir: workDir,
            protectedPaths: [credential, tls.tlsKey, auth.credentials, auth.jwtSecretFile].compactMap { $0 })
        config.connectionLimits = try limits.limits()
        do { config.credential = try credential.map { try CredentialSet.loadSingle(path: $0) } } catch {
            throw ValidationError("--credential: \(error)")
        }
        let authenticator = try auth.authenticator()
        config.httpAuthenticator = auth.authenticateHTTP ? authenticator : nil
        config.tls = try tls.server()
        config.clientTLS = try tls.client()
        var open: [String] = config.tls == nil ? [TLSFlags.unencrypted] : []
        if config.credential == nil { open.append("the master's calls are not authenticated (--credential)") }
        if config.httpAuthenticator == nil { open.append("the operator API and sandbox files are open (--authenticate-http)") }
        try auth.checkListen(address, flag: "--listen", command: "agent", open: open)
        if config.credential == nil { logger.warning("The agent is not authenticated (--insecure): anyone who reaches the port can run tasks") }
        let started = config
        let listenFile = self.listenFile
        var leader: (@Sendable () async throws -> HostPort)?
        if masters.single == nil {
            let finder = try LeaderFinder(masters, tls: started.clientTLS)
            leader = { try await finder.leader() }
        }
        let service = try AgentService(
            configuration: started, logger: logger, killTasksOnShutdown: false, masterAddress: leader,
            onListening: { address in
            Console.line("capstan agent listening on \(address.url(tls: started.tls != nil)) (executor API: /api/v1/executor); master \(masters)")
            await ListenFile.write(address, to: listenFile, logger: logger)
        })
        let group = ServiceGroup(
            configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
