import ArgumentParser
import CapstanContainerizer
import CapstanCore

/// The `disk/du` isolator's flags, shared by `capstan agent` and `capstan up` (Mesos' names).
struct DiskFlags: ParsableArguments {
    @Option(help: ArgumentHelp(
        "How often each container's disk usage (its sandbox and writable rootfs layer) is measured, at idle I/O priority; a measurement that took d waits at least 10 × d before the next.",
        valueName: "duration"))
    var containerDiskWatchInterval: String = "15secs"

    @Flag(help: "Kill a container whose disk usage exceeds its disk resource: its tasks fail with REASON_CONTAINER_LIMITATION_DISK.")
    var enforceContainerDiskQuota = false

    @Option(help: ArgumentHelp(
        "Project IDs disk/xfs may give containers; the agent checks at start whether its work dir's filesystem and kernel support project quotas.",
        valueName: "[low-high]"))
    var xfsProjectRange: String = "[5000-10000]"

    func projectRange() throws -> ProjectIDRange {
        do { return try ProjectIDRange(parsing: xfsProjectRange) } catch { throw ValidationError(error.message) }
    }

    func options() throws -> DiskUsageIsolator.Options {
        let interval = try FlagParsing.duration(containerDiskWatchInterval, flag: "--container-disk-watch-interval")
        guard interval >= .milliseconds(10) else {
            throw ValidationError("--container-disk-watch-interval must be at least 10ms, not '\(containerDiskWatchInterval)'")
        }
        return DiskUsageIsolator.Options(interval: interval, enforce: enforceContainerDiskQuota)
    }
}
