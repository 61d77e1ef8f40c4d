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
        logProjectQuotaSupport(configuration, logger: logger)
        return IsolatorSet(isolators: isolation.isolators + [disk], unavailable: isolation.unavailable)
    }

    /// Says once at start whether the work dir's filesystem and kernel could hold `disk/xfs` project quotas, and
    /// exactly what is missing when they cannot (the mount option, the filesystem's feature, the kernel's support).
    static func logProjectQuotaSupport(_ configuration: AgentConfiguration, logger: Logger) {
        do {
            let support = try ProjectQuotaSupport.detect(path: configuration.workDir)
            logger.info(
                "Project quotas (disk/xfs) on the work dir: \(support.summary)",
                metadata: ["xfs_project_range": "\(configuration.xfsProjectRange)"])
        } catch {
            logger.info("Project quotas (disk/xfs) on the work dir: unknown: \(error)")
        }
    }
}
