import CapstanContainerizer
import CapstanCore
import Glibc
import Logging

extension AgentService {
    /// Plus `gpu/nvidia` when `--isolation` lists it: the GPUs offered as `gpus` are assigned to containers whole,
    /// with their device nodes.
    static func withGPUs(_ isolation: IsolatorSet, _ configuration: AgentConfiguration, logger: Logger) throws -> IsolatorSet {
        guard configuration.isolation.includes("gpu/nvidia") else { return isolation }
        guard geteuid() == 0 else {
            logger.warning("gpu/nvidia is unavailable: it needs root; containers asking for gpus will get none isolated")
            return IsolatorSet(isolators: isolation.isolators, unavailable: isolation.unavailable + ["gpu/nvidia: not running as root"])
        }
        let isolator = NvidiaGPUIsolator(
            gpus: configuration.gpus, logger: logger, driverVolume: try driverVolume(configuration, logger: logger), cdi: configuration.cdi)
        logger.info(
            "gpu/nvidia: containers get whole GPUs",
            metadata: ["gpus": "\(configuration.gpus.map { "\($0.index):\($0.uuid)" }.joined(separator: ","))"])
        return IsolatorSet(isolators: isolation.isolators + [isolator], unavailable: isolation.unavailable)
    }

    /// The driver volume (made under the work dir at the first start with this driver version), unless the agent has
    /// an NVIDIA CDI spec, which the isolator uses instead, or NVML was not asked (no GPUs chosen).
    private static func driverVolume(_ configuration: AgentConfiguration, logger: Logger) throws -> NvidiaDriverVolume? {
        guard let version = configuration.nvidiaDriverVersion else { return nil }
        if NvidiaCDIEdits.present(in: configuration.cdi) {
            logger.info("gpu/nvidia: an NVIDIA CDI spec is present; containers get its edits instead of the driver volume")
            return nil
        }
        return try NvidiaDriverVolume.make(
            workDir: configuration.workDir, version: version, source: configuration.nvidiaDriverSource, logger: logger)
    }

    /// Plus `cgroups/devices`, last (it allows the nodes the isolators before it gave), when `--isolation` lists it
    /// or `gpu/nvidia`, or the agent has CDI devices: then every container may use only the default devices and its
    /// own. Without it a GPU or CDI device would not be kept from the other containers.
    /// - Throws: `unsupported` when it is needed but this machine has neither a cgroup v1 devices hierarchy nor a
    ///   cgroup2 mount at /sys/fs/cgroup (device programs) that root can use.
    static func withDevices(_ isolation: IsolatorSet, _ configuration: AgentConfiguration, logger: Logger) throws -> IsolatorSet {
        let why: String
        if configuration.isolation.includes("gpu/nvidia") {
            why = "gpu/nvidia"
        } else if configuration.isolation.includes("cgroups/devices") {
            why = "--isolation"
        } else if !configuration.cdi.deviceNames.isEmpty {
            why = "CDI devices"
        } else {
            return isolation
        }
        guard geteuid() == 0 else {
            logger.warning("cgroups/devices is unavailable: it needs root", metadata: ["wanted_by": "\(why)"])
            return IsolatorSet(isolators: isolation.isolators, unavailable: isolation.unavailable + ["cgroups/devices: not running as root"])
        }
        let controller = try DeviceControllers.system()
        logger.info("cgroups/devices: containers may use only the default devices and their own", metadata: ["controller": "\(controller.description)", "wanted_by": "\(why)"])
        return IsolatorSet(isolators: isolation.isolators + [DevicesIsolator(controller: controller, logger: logger)], unavailable: isolation.unavailable)
    }
}

extension AgentService {
    /// Plus `devices/cdi` when running as root: containers get the CDI devices their task or image asks for. It comes
    /// before `cgroups/devices` (added after it), which allows the nodes it gives.
    static func withCDI(_ isolation: IsolatorSet, _ configuration: AgentConfiguration, logger: Logger) -> IsolatorSet {
        guard geteuid() == 0 else {
            if !configuration.cdi.deviceNames.isEmpty {
                logger.warning("devices/cdi is unavailable: it needs root; tasks asking for CDI devices will fail")
            }
            return isolation
        }
        return IsolatorSet(
            isolators: isolation.isolators + [CDIDeviceIsolator(registry: configuration.cdi, logger: logger)], unavailable: isolation.unavailable)
    }
}
