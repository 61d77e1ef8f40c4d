import CapstanContainerizer
import Logging

extension AgentService {
    /// The isolators plus `disk/du`, which every agent runs (it needs no root): usage of each container's sandbox and,
    /// for a task from an image, of its overlay upper dir, in GET_CONTAINERS; kills past `disk` with
    /// `--enforce-container-disk-quota`.
    static func withDiskUsage(
        _ isolation: IsolatorSet, _ configuration: AgentConfiguration, launcher: LinuxLauncher?, logger: Logger
    ) -> IsolatorSet {
        let disk = DiskUsageIsolator(
            options: configuration.diskUsage, writableLayer: { config in launcher?.writableLayerDirectory(of: config) }, logger: logger)
        if configuration.diskUsage.enforce {
            logger.info("Containers over their disk resource are killed (--enforce-container-disk-quota)",
                metadata: ["interval": "\(configuration.diskUsage.interval)"])
        }
        return IsolatorSet(isolators: isolation.isolators + [disk], unavailable: isolation.unavailable)
    }
}
