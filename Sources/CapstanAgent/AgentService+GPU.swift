import CapstanContainerizer
import CapstanCore
import Glibc
import Logging

extension AgentService {
    /// Plus `gpu/nvidia` when `--isolation` lists it: the GPUs offered as `gpus` are assigned to containers whole,
    /// and every container gets a devices cgroup allowing only its own GPUs' nodes.
    /// - Throws: when the isolator is asked for but this machine has no cgroup v1 devices hierarchy usable by root.
    static func withGPUs(_ isolation: IsolatorSet, _ configuration: AgentConfiguration, logger: Logger) throws -> IsolatorSet {
        guard configuration.isolation.includes("gpu/nvidia") else { return isolation }
        guard geteuid() == 0 else {
            logger.warning("gpu/nvidia is unavailable: it needs root; containers asking for gpus will get none isolated")
            return IsolatorSet(isolators: isolation.isolators, unavailable: isolation.unavailable + ["gpu/nvidia: not running as root"])
        }
        let isolator = try NvidiaGPUIsolator(gpus: configuration.gpus, logger: logger)
        logger.info(
            "gpu/nvidia: containers get whole GPUs and a devices cgroup",
            metadata: ["gpus": "\(configuration.gpus.map { "\($0.index):\($0.uuid)" }.joined(separator: ","))"])
        return IsolatorSet(isolators: isolation.isolators + [isolator], unavailable: isolation.unavailable)
    }
}
