public import CapstanCore
import CapstanLinux
import Foundation
import Glibc

/// `cgroups/mem`: a hard memory limit from ``ResourceLimits/memBytes``; an OOM kill inside the container is
/// reported by `watch` as a ``LimitedResource/memory`` limitation (the agent then sends TASK_FAILED with
/// REASON_CONTAINER_LIMITATION_MEMORY).
///
/// v1: `memory.limit_in_bytes` (and the soft limit, as Mesos sets both); OOM kills are counted by `oom_kill` in
/// `memory.oom_control`. v2: `memory.max`, and `oom_kill` in `memory.events`. `watch` polls the counter every
/// `pollInterval` and checks it once more when cancelled, so an OOM kill that ended the container is never missed
/// because the exit was seen first.
public struct CgroupsMemoryIsolator: Isolator, CgroupIsolator {
    public let name = "cgroups/mem"
    private let memory: CgroupHierarchy
    private let pollInterval: Duration

    /// Finds the hierarchy.
    /// - Throws: `unsupported` when there is no memory hierarchy.
    public init(base: String = "/sys/fs/cgroup", pollInterval: Duration = .milliseconds(100)) throws {
        guard let memory = CgroupHierarchy.find("memory", base: base) else {
            throw CapstanError(.unsupported, "Failed to create isolator 'cgroups/mem': no memory cgroup hierarchy under '\(base)'")
        }
        self.memory = memory
        self.pollInterval = pollInterval
    }

    /// The container's memory cgroup.
    public func cgroupPath(of id: ContainerID) -> String { memory.path(of: id) }

    func checkUsable() throws {
        try memory.checkUsable()
    }

    // cgroupfs writes block (a cgroup.procs write waits on the kernel's cgroup locks): they run on the bounded
    // blocking pool, never on the cooperative one.
    public func prepare(_ config: ContainerConfig) async throws -> LaunchHooks? {
        try await Blocking.run { [self] in
            try memory.create(config.containerID)
            if memory.version == .v1 {
                // Mesos' behaviour: no swap beyond the limit where memsw exists is left to the host's settings.
                try? Cgroup.write("1", to: memory.path(of: config.containerID) + "/memory.use_hierarchy")
            }
            try apply(config.containerID, config.limits)
        }
        return nil
    }

    public func isolate(_ id: ContainerID, pid: Int32) async throws {
        try await Blocking.run { [self] in try memory.add(id, pid: pid) }
    }

    public func update(_ id: ContainerID, limits: ResourceLimits) async throws {
        try await Blocking.run { [self] in try apply(id, limits) }
    }

    public func usage(_ id: ContainerID) async throws -> ResourceStatistics? {
        let directory = memory.path(of: id)
        let now = Date().timeIntervalSince1970
        switch memory.version {
        case .v1:
            let stat = Cgroup.keyed(directory + "/memory.stat")
            guard let rss = stat["total_rss"] ?? stat["rss"] else { return nil }
            var stats = ResourceStatistics(timestamp: now, memRSSBytes: rss)
            stats.memTotalBytes = Cgroup.readInt(directory + "/memory.usage_in_bytes")
            return stats
        case .v2:
            let stat = Cgroup.keyed(directory + "/memory.stat")
            guard let anon = stat["anon"] else { return nil }
            var stats = ResourceStatistics(timestamp: now, memRSSBytes: anon)
            stats.memTotalBytes = Cgroup.readInt(directory + "/memory.current")
            return stats
        }
    }

    public func watch(_ id: ContainerID) async -> ContainerLimitation? {
        while true {
            if let limitation = oomLimitation(id) { return limitation }
            if Task.isCancelled { return nil }
            try? await Task.sleep(for: pollInterval)
        }
    }

    public func cleanup(_ id: ContainerID) async throws {
        try await memory.destroy(id)
    }

    public func recover(_ states: [ContainerRecoveryState]) async throws {}

    /// How many processes of the container the kernel's OOM killer has killed.
    public func oomKills(_ id: ContainerID) -> UInt64 {
        let file = memory.version == .v1 ? "/memory.oom_control" : "/memory.events"
        return Cgroup.keyed(memory.path(of: id) + file)["oom_kill"] ?? 0
    }

    private func oomLimitation(_ id: ContainerID) -> ContainerLimitation? {
        guard oomKills(id) > 0 else { return nil }
        let directory = memory.path(of: id)
        let limit = Cgroup.readInt(directory + (memory.version == .v1 ? "/memory.limit_in_bytes" : "/memory.max"))
        let peak = Cgroup.readInt(directory + (memory.version == .v1 ? "/memory.max_usage_in_bytes" : "/memory.peak"))
        let mib = { (bytes: UInt64?) in bytes.map { "\($0 / (1 << 20)) MiB" } ?? "unknown" }
        return ContainerLimitation(
            resource: .memory, message: "Memory limit exceeded: Requested: \(mib(limit)) Maximum Used: \(mib(peak))")
    }

    private func apply(_ id: ContainerID, _ limits: ResourceLimits) throws {
        let directory = memory.path(of: id)
        switch memory.version {
        case .v1:
            let value = limits.memBytes.map { "\($0)" } ?? "-1"
            // Memory plus swap gets the same limit where the kernel accounts swap (as v2's `memory.swap.max` 0), so a
            // container over its limit is OOM-killed rather than swapped out. memsw may never be below the memory
            // limit: it is written before (raising) and after (lowering) the memory limit; a kernel without it fails both.
            let memsw = directory + "/memory.memsw.limit_in_bytes"
            try? Cgroup.write(value, to: memsw)
            try Cgroup.write(value, to: directory + "/memory.limit_in_bytes")
            try? Cgroup.write(value, to: memsw)
            try? Cgroup.write(value, to: directory + "/memory.soft_limit_in_bytes")
        case .v2:
            try Cgroup.write(limits.memBytes.map { "\($0)" } ?? "max", to: directory + "/memory.max")
            try? Cgroup.write("0", to: directory + "/memory.swap.max")
        }
    }
}
