public import CapstanCore
import CapstanLinux
import Foundation
public import Logging
import Synchronization

/// `disk/xfs`: a project quota per container, on XFS (`-o prjquota`) or ext4 (`-O project`, `-o prjquota`).
///
/// At `prepare` the container gets a project ID from `--xfs-project-range` (lowest free, checkpointed in
/// `meta/xfs-project-ids.json` before anything is tagged), its sandbox and everything already in it take that ID with
/// `FS_XFLAG_PROJINHERIT` (so whatever the task creates there is charged to it), and the project's hard block limit
/// becomes the container's `disk` resource: past it the kernel fails writes with `EDQUOT`. At `isolate`, once the
/// launcher has made them, the container's writable rootfs layer (the overlay upper dir, and its work dir, through
/// which overlayfs renames copied-up files) takes the ID too, so writes to `/` count — Mesos counted the sandbox only.
///
/// Usage is one `quotactl` per container (no tree walk): `usage` reports it as `disk_used_bytes` against
/// `disk_limit_bytes`, and `watch` reads it every ``DiskUsageIsolator/Options/interval``. With
/// ``DiskUsageIsolator/Options/enforce`` (`--enforce-container-disk-quota`), as Mesos' `--xfs_kill_containers`, the
/// kernel's hard limit is `disk` + ``killHeadroom`` and a container whose usage passes `disk` is reported as a
/// ``LimitedResource/disk`` limitation (REASON_CONTAINER_LIMITATION_DISK): it is killed rather than left running with
/// every write failing.
///
/// `cleanup` clears the limit, gives the directories that survive back to project 0 and frees the ID. `recover` keeps
/// the IDs of every checkpointed container (the same ID for the same container) and frees the others (containers gone
/// while the agent was down, IDs outside a narrowed range), clearing their limits.
public final class ProjectQuotaIsolator: Isolator {
    public let name = "disk/xfs"

    struct Entry: Sendable {
        var sandbox: String
        /// The writable rootfs layer's directories, tagged at `isolate`.
        var layers: [String]
        var limit: UInt64?
        var limitLogged = false
        /// Whether a failed usage read was logged since the last good one, so that each is logged once.
        var failureLogged = false
    }

    public let device: ProjectQuotaDevice
    public let options: DiskUsageIsolator.Options
    private let store: ProjectIDStore
    private let writableLayer: @Sendable (ContainerConfig) -> [String]
    private let clock: any Clock<Duration>
    private let logger: Logger
    /// Touched only inside ``Blocking/run(_:)``, so a checkpoint write never holds a cooperative thread.
    private let allocator: Mutex<ProjectIDAllocator>
    private let containers = Mutex<[ContainerID: Entry]>([:])

    /// - Parameters:
    ///   - device: the work dir's filesystem (``ProjectQuotaSupport/require(path:)``).
    ///   - store: the checkpoint of the project IDs; read here, so that a broken one stops the agent at start.
    ///   - writableLayer: the directories holding a container's writes to its root filesystem (overlay upper and work
    ///     dirs), if any.
    /// - Throws: ``CapstanError`` when the checkpoint cannot be read.
    public init(
        device: ProjectQuotaDevice, range: ProjectIDRange, store: ProjectIDStore, options: DiskUsageIsolator.Options = .init(),
        writableLayer: @escaping @Sendable (ContainerConfig) -> [String] = { _ in [] }, clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger
    ) throws {
        self.device = device
        self.options = options
        self.store = store
        self.writableLayer = writableLayer
        self.clock = clock
        var logger = logger
        logger[metadataKey: "isolator"] = "disk/xfs"
        self.logger = logger
        allocator = Mutex(try store.load(range: range))
    }

    /// The project ID `container` holds, if any.
    public func project(of container: ContainerID) async throws -> UInt32? {
        try await Blocking.run { self.allocator.withLock { $0.assignments[container] } }
    }

    /// How many IDs of the range are free (Mesos' `project_ids_free`).
    public func freeProjectIDs() async throws -> Int {
        try await Blocking.run { self.allocator.withLock { $0.free } }
    }

    public func prepare(_ config: ContainerConfig) async throws -> LaunchHooks? {
        let id = config.containerID
        let entry = Entry(sandbox: config.sandboxDirectory, layers: writableLayer(config), limit: config.limits.diskBytes)
        containers.withLock { $0[id] = entry }
        let store = self.store, device = self.device
        try await Blocking.run {
            let project = try self.allocator.withLock { allocator throws -> UInt32 in
                var next = allocator
                let project = try next.allocate(for: id)
                try store.save(next)
                allocator = next
                return project
            }
            var sandbox = stat()
            guard stat(entry.sandbox, &sandbox) == 0 else {
                throw CapstanError.system("disk/xfs: the sandbox '\(entry.sandbox)' cannot be tagged with project \(project): stat", errno: errno)
            }
            // The limit first: a kernel that refuses it leaves no file tagged.
            try device.setLimit(project, bytes: self.hardLimit(entry.limit))
            try ProjectAttribute.setTree(entry.sandbox, project: project)
        }
        return nil
    }

    /// Tags the writable rootfs layer, which the launcher has made by now, before the task runs.
    public func isolate(_ id: ContainerID, pid: Int32) async throws {
        guard let entry = containers.withLock({ $0[id] }), !entry.layers.isEmpty else { return }
        try await Blocking.run {
            guard let project = self.allocator.withLock({ $0.assignments[id] }) else { return }
            for layer in entry.layers where FileManager.default.fileExists(atPath: layer) {
                try ProjectAttribute.setTree(layer, project: project)
            }
        }
    }

    public func update(_ id: ContainerID, limits: ResourceLimits) async throws {
        let known = containers.withLock { containers in
            containers[id]?.limit = limits.diskBytes
            containers[id]?.limitLogged = false
            return containers[id] != nil
        }
        guard known else { return }
        let device = self.device
        try await Blocking.run {
            guard let project = self.allocator.withLock({ $0.assignments[id] }) else { return }
            try device.setLimit(project, bytes: self.hardLimit(limits.diskBytes))
        }
    }

    /// What the kernel counts for the container's project, with its `disk` as the limit. A failed read leaves the
    /// usage out (logged once) rather than failing the container's whole sample.
    public func usage(_ id: ContainerID) async throws -> ResourceStatistics? {
        guard let entry = containers.withLock({ $0[id] }) else { return nil }
        var stats = ResourceStatistics(timestamp: Date().timeIntervalSince1970)
        stats.diskLimitBytes = entry.limit
        let device = self.device
        do {
            stats.diskUsedBytes = try await Blocking.run { () throws -> UInt64? in
                guard let project = self.allocator.withLock({ $0.assignments[id] }) else { return nil }
                return try device.usage(project).usedBytes
            }
            containers.withLock { $0[id]?.failureLogged = false }
        } catch {
            let first = containers.withLock { containers in
                defer { containers[id]?.failureLogged = true }
                return containers[id]?.failureLogged == false
            }
            if first {
                logger.warning("Cannot read the container's disk usage from its project quota", metadata: ["container_id": "\(id)", "error": "\(error)"])
            }
        }
        return stats
    }

    /// Reads the container's usage every interval; with enforcement, returns a disk limitation once it reached the limit.
    public func watch(_ id: ContainerID) async -> ContainerLimitation? {
        while !Task.isCancelled {
            guard let entry = containers.withLock({ $0[id] }) else { return nil }  // cleaned up
            if let limit = entry.limit, let used = try? await usage(id)?.diskUsedBytes, options.enforce ? used > limit : used >= limit {
                if options.enforce { return ContainerLimitation(resource: .disk, message: DiskUsageIsolator.excessMessage(used: used, limit: limit)) }
                let message = Self.limitMessage(used: used, limit: limit)
                let first = containers.withLock { containers in
                    defer { containers[id]?.limitLogged = true }
                    return containers[id]?.limitLogged == false
                }
                if first {
                    logger.info(
                        "\(message); its writes fail with EDQUOT, the container is not killed (--enforce-container-disk-quota is off)",
                        metadata: ["container_id": "\(id)"])
                }
            }
            try? await clock.sleep(for: options.interval, tolerance: nil)
        }
        return nil
    }

    /// What the kernel holds a container to: its `disk`, or with enforcement ``killHeadroom`` more, so that usage can
    /// pass `disk` and be seen doing so before the kernel stops the writes (Mesos' `--xfs_kill_containers`); 0, no
    /// limit, without a `disk`.
    func hardLimit(_ disk: UInt64?) -> UInt64 {
        guard let disk else { return 0 }
        return options.enforce ? disk + Self.killHeadroom : disk
    }

    /// How far past its `disk` a container may write before the kernel stops it when the watch kills at `disk`
    /// (Mesos' 10 MB).
    public static let killHeadroom: UInt64 = 10 << 20

    /// The wording for a quota reached, with both figures in MiB and bytes.
    static func limitMessage(used: UInt64, limit: UInt64) -> String {
        func mib(_ bytes: UInt64) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        return "Disk usage (\(mib(used)), \(used) bytes) reached its quota (\(mib(limit)), \(limit) bytes)"
    }

    /// Clears the limit, gives surviving directories back to project 0 and frees the ID. A limit or a directory that
    /// cannot be reset is logged, not fatal: the ID is freed anyway, and the next container to get it has its own
    /// limit set at `prepare`.
    public func cleanup(_ id: ContainerID) async throws {
        let entry = containers.withLock { $0.removeValue(forKey: id) }
        let store = self.store, device = self.device, logger = self.logger
        try await Blocking.run {
            guard let project = self.allocator.withLock({ $0.assignments[id] }) else { return }
            for directory in ([entry?.sandbox] + (entry?.layers ?? [])).compactMap({ $0 }) where FileManager.default.fileExists(atPath: directory) {
                do { try ProjectAttribute.setTree(directory, project: 0) } catch {
                    logger.warning("Cannot give a directory back to project 0", metadata: ["container_id": "\(id)", "error": "\(error)"])
                }
            }
            Self.clearLimit(project, on: device, for: id, logger: logger)
            try self.allocator.withLock { allocator in
                var next = allocator
                next.release(id)
                try store.save(next)
                allocator = next
            }
        }
    }

    private static func clearLimit(_ project: UInt32, on device: ProjectQuotaDevice, for id: ContainerID, logger: Logger) {
        do { try device.setLimit(project, bytes: 0) } catch {
            logger.warning(
                "Cannot clear the disk limit of a freed project ID", metadata: ["container_id": "\(id)", "project": "\(project)", "error": "\(error)"])
        }
    }

    /// Keeps the IDs of `states` (the same ID for the same container; those with a nil pid are cleaned up next) and
    /// frees the rest, clearing their limits.
    public func recover(_ states: [ContainerRecoveryState]) async throws {
        let store = self.store, device = self.device, logger = self.logger
        let kept = Set(states.map(\.containerID))
        let (released, held) = try await Blocking.run {
            try self.allocator.withLock { allocator -> ([ContainerID: UInt32], Set<ContainerID>) in
                var next = allocator
                let released = next.recover(keeping: kept)
                if !released.isEmpty { try store.save(next) }
                allocator = next
                return (released, Set(next.assignments.keys))
            }
        }
        for (container, project) in released.sorted(by: { $0.value < $1.value }) {
            logger.info("Freed the project ID of a container gone while the agent was down", metadata: ["container_id": "\(container)", "project": "\(project)"])
        }
        for state in states where state.pid != nil && !held.contains(state.containerID) {
            logger.warning(
                "A running container has no project ID (launched without disk/xfs, or its ID fell outside --xfs-project-range): its disk is neither limited nor measured until it is launched again",
                metadata: ["container_id": "\(state.containerID)"])
        }
        try await Blocking.run {
            for (container, project) in released { Self.clearLimit(project, on: device, for: container, logger: logger) }
        }
        containers.withLock { containers in
            for state in states {
                containers[state.containerID] = Entry(
                    sandbox: state.config.sandboxDirectory, layers: writableLayer(state.config), limit: state.config.limits.diskBytes)
            }
        }
    }
}
