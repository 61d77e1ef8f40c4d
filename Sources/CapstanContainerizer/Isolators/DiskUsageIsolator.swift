public import CapstanCore
import Foundation
public import Logging
import Synchronization

/// `disk/du`: measures each container's disk usage — its sandbox plus, for a container with a rootfs from image layers,
/// the overlay upper dir its writes to `/` land in — every ``Options/interval`` (Mesos' `--container_disk_watch_interval`,
/// 15 s) and reports it as `disk_used_bytes` against `disk_limit_bytes` (``ResourceLimits/diskBytes``, the task's
/// `disk`). With ``Options/enforce`` (Mesos' `--enforce_container_disk_quota`) a container over its limit is reported
/// by `watch` as a ``LimitedResource/disk`` limitation: the containerizer kills it and the agent sends TASK_FAILED
/// with REASON_CONTAINER_LIMITATION_DISK.
///
/// Measuring never starves the host (Mesos' `du` could, kubernetes#23255): a native walk (``DiskUsageWalker``, as
/// `du -s -x`) on one thread at idle I/O priority and nice 19, one container at a time (``DiskUsageMeasurer``), and a
/// container whose measurement took `d` is measured again only after `max(interval, backoffFactor × d)`, so the walk
/// takes at most 1/`backoffFactor` of the time even on a tree too big for the interval.
///
/// `usage` returns the latest measurement (never walks the tree itself): the first one is taken when `watch` starts,
/// right after the container does. Nothing is created on the host, so `cleanup` only forgets the container.
public final class DiskUsageIsolator: Isolator {
    public let name = "disk/du"

    /// How often and how strictly containers are measured.
    public struct Options: Sendable, Hashable {
        /// Time between the end of one measurement of a container and the start of the next (at least).
        public var interval: Duration
        /// Kill a container over its `disk`.
        public var enforce: Bool
        /// The next measurement of a container waits at least this many times as long as its last one took.
        public var backoffFactor: Double

        public init(interval: Duration = .seconds(15), enforce: Bool = false, backoffFactor: Double = 10) {
            self.interval = interval
            self.enforce = enforce
            self.backoffFactor = backoffFactor
        }
    }

    struct Entry: Sendable {
        var roots: [String]
        var limit: UInt64?
        var used: UInt64?
        var measuredAt: Double?
        /// Whether a failed measurement or an unenforced excess was logged since the last change, so each is logged once.
        var failureLogged = false
        var excessLogged = false
    }

    public let options: Options
    private let writableLayer: @Sendable (ContainerConfig) -> String?
    private let measurer: DiskUsageMeasurer
    private let clock: any Clock<Duration>
    private let logger: Logger
    private let containers = Mutex<[ContainerID: Entry]>([:])

    /// - Parameters:
    ///   - writableLayer: the directory holding a container's writes to its root filesystem, if any (the Linux
    ///     launcher's ``LinuxLauncher/writableLayerDirectory(of:)``); measured with its sandbox.
    ///   - measurer: shared by isolators that should take turns measuring.
    public init(
        options: Options = Options(), writableLayer: @escaping @Sendable (ContainerConfig) -> String? = { _ in nil },
        measurer: DiskUsageMeasurer = DiskUsageMeasurer(), clock: any Clock<Duration> = ContinuousClock(), logger: Logger
    ) {
        self.options = options
        self.writableLayer = writableLayer
        self.measurer = measurer
        self.clock = clock
        var logger = logger
        logger[metadataKey: "isolator"] = "disk/du"
        self.logger = logger
    }

    /// How long to wait after a measurement that took `took` before the next one.
    public static func nextWait(after took: Duration, options: Options) -> Duration {
        let scaled = Duration.exactly(seconds: took.seconds * max(0, options.backoffFactor)) ?? options.interval
        return max(options.interval, scaled)
    }

    /// The directories measured for a container: its sandbox, then its writable layer when it has one.
    func roots(_ config: ContainerConfig) -> [String] {
        [config.sandboxDirectory] + (writableLayer(config).map { [$0] } ?? [])
    }

    public func prepare(_ config: ContainerConfig) async throws -> LaunchHooks? {
        let entry = Entry(roots: roots(config), limit: config.limits.diskBytes)
        containers.withLock { $0[config.containerID] = entry }
        return nil
    }

    public func isolate(_ id: ContainerID, pid: Int32) async throws {}

    public func update(_ id: ContainerID, limits: ResourceLimits) async throws {
        containers.withLock { containers in
            containers[id]?.limit = limits.diskBytes
            containers[id]?.excessLogged = false
        }
    }

    public func usage(_ id: ContainerID) async throws -> ResourceStatistics? {
        guard let entry = containers.withLock({ $0[id] }) else { return nil }
        var stats = ResourceStatistics(timestamp: entry.measuredAt ?? Date().timeIntervalSince1970)
        stats.diskUsedBytes = entry.used
        stats.diskLimitBytes = entry.limit
        return stats
    }

    /// Measures the container every interval (with the backoff) until cancelled; returns a limitation only when
    /// enforcing and a measurement exceeds the limit.
    public func watch(_ id: ContainerID) async -> ContainerLimitation? {
        while !Task.isCancelled {
            guard let roots = containers.withLock({ $0[id]?.roots }) else { return nil }  // cleaned up
            var wait = options.interval
            do {
                let measured = try await measurer.measure(roots)
                wait = Self.nextWait(after: measured.duration, options: options)
                if let limitation = record(id, measured) { return limitation }
            } catch is CancellationError {
                return nil
            } catch {
                let first = containers.withLock { containers in
                    defer { containers[id]?.failureLogged = true }
                    return containers[id]?.failureLogged == false
                }
                if first {
                    logger.warning(
                        "Failed to measure the container's disk usage; trying again every interval",
                        metadata: ["container_id": "\(id)", "error": "\(error)"])
                }
            }
            try? await clock.sleep(for: wait, tolerance: nil)
        }
        return nil
    }

    /// Keeps a measurement; the limitation to report when it is over the limit and the limit is enforced.
    private func record(_ id: ContainerID, _ measured: DiskUsageMeasurer.Measurement) -> ContainerLimitation? {
        let (entry, logExcess) = containers.withLock { containers -> (Entry?, Bool) in
            guard var entry = containers[id] else { return (nil, false) }
            entry.used = measured.usage.bytes
            entry.measuredAt = Date().timeIntervalSince1970
            entry.failureLogged = false
            let over = entry.limit.map { measured.usage.bytes > $0 } ?? false
            let logExcess = over && !options.enforce && !entry.excessLogged
            if logExcess { entry.excessLogged = true }
            containers[id] = entry
            return (entry, logExcess)
        }
        guard let entry, let limit = entry.limit, measured.usage.bytes > limit else { return nil }
        let message = Self.excessMessage(used: measured.usage.bytes, limit: limit)
        if options.enforce { return ContainerLimitation(resource: .disk, message: message) }
        if logExcess {
            logger.info("\(message); not enforced (--enforce-container-disk-quota is off)", metadata: ["container_id": "\(id)"])
        }
        return nil
    }

    /// Mesos' wording, with both figures in MiB and bytes.
    static func excessMessage(used: UInt64, limit: UInt64) -> String {
        func mib(_ bytes: UInt64) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        return "Disk usage (\(mib(used)), \(used) bytes) exceeds quota (\(mib(limit)), \(limit) bytes)"
    }

    public func cleanup(_ id: ContainerID) async throws {
        _ = containers.withLock { $0.removeValue(forKey: id) }
    }

    public func recover(_ states: [ContainerRecoveryState]) async throws {
        containers.withLock { containers in
            for state in states where state.pid != nil {
                containers[state.containerID] = Entry(roots: roots(state.config), limit: state.config.limits.diskBytes)
            }
        }
    }
}
