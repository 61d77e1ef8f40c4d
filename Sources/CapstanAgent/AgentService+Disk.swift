import CapstanContainerizer
import CapstanCore
import Logging

extension AgentService {
    /// The isolators `--isolation` chose (without it: every cgroup isolator available) plus its disk isolator:
    /// `disk/du` (the default; it needs no root) measures each container's sandbox and, for a task from an image, its
    /// overlay upper dir; `disk/xfs` puts both under a project quota. Usage in GET_CONTAINERS; kills past `disk` with
    /// `--enforce-container-disk-quota`.
    /// - Throws: when `disk/xfs` is chosen and the work dir's filesystem or kernel cannot hold project quotas (saying
    ///   exactly what is missing), or `--xfs-project-range` overlaps projects the host names in /etc/projects or
    ///   /etc/projid.
    static func withDiskUsage(
        _ isolation: IsolatorSet, _ configuration: AgentConfiguration, launcher: LinuxLauncher?, logger: Logger
    ) throws -> IsolatorSet {
        let selection = configuration.isolation
        let chosen = isolation.isolators.filter { !IsolationSelection.selectable.contains($0.name) || selection.includes($0.name) }
        let unavailable = isolation.unavailable.filter { entry in
            let name = String(entry.prefix { $0 != ":" })
            return !IsolationSelection.selectable.contains(name) || selection.includes(name)
        }
        var disk: [any Isolator] = []
        switch selection.disk {
        case "disk/xfs":
            disk.append(try projectQuotaIsolator(configuration, launcher: launcher, logger: logger))
        case "disk/du":
            disk.append(
                DiskUsageIsolator(
                    options: configuration.diskUsage, writableLayer: { config in launcher?.writableLayerDirectory(of: config) }, logger: logger))
            logProjectQuotaSupport(configuration, logger: logger)
        default:
            logger.info("No disk isolator: --isolation names neither disk/du nor disk/xfs", metadata: ["isolation": "\(selection)"])
        }
        if configuration.diskUsage.enforce && !disk.isEmpty {
            logger.info("Containers over their disk resource are killed (--enforce-container-disk-quota)",
                metadata: ["interval": "\(configuration.diskUsage.interval)"])
        }
        return IsolatorSet(isolators: chosen + disk, unavailable: unavailable)
    }

    /// `disk/xfs` on the work dir, once its filesystem and kernel are known to hold project quotas.
    static func projectQuotaIsolator(_ configuration: AgentConfiguration, launcher: LinuxLauncher?, logger: Logger) throws -> ProjectQuotaIsolator {
        let range = configuration.xfsProjectRange
        let taken = range.definedElsewhere()
        guard taken.isEmpty else {
            throw CapstanError(
                .invalidArgument,
                "--xfs-project-range \(range) overlaps project IDs this host already uses: \(taken.joined(separator: ", ")); choose a range without them")
        }
        let (device, enforcing) = try ProjectQuotaSupport.require(path: configuration.workDir)
        let isolator = try ProjectQuotaIsolator(
            device: device, range: range, store: ProjectIDStore(workDir: configuration.workDir), options: configuration.diskUsage,
            writableLayer: { config in launcher?.writableLayerDirectories(of: config) ?? [] }, logger: logger)
        logger.info(
            "disk/xfs: each container's sandbox and writable rootfs layer get a project quota of its disk resource",
            metadata: ["device": "\(device)", "xfs_project_range": "\(range)"])
        if !enforcing {
            logger.warning("disk/xfs: \(device.device) only accounts project quotas (mounted pqnoenforce): limits are not enforced by the kernel")
        }
        return isolator
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
