public import CapstanCore
import CapstanLinux
import Foundation
import Glibc

/// `cgroups/cpu`: CPU shares and a CFS quota from ``ResourceLimits/cpus`` (as Mesos' `cgroups/cpu` with
/// `--cgroups_enable_cfs`), and CPU times from `cpuacct` (v1) or `cpu.stat` (v2).
///
/// v1: `cpu.shares` = 1024 × cpus (at least 2), `cpu.cfs_quota_us` = cpus × `cpu.cfs_period_us` (100 ms; at least
/// 1 ms). v2: `cpu.weight` from the same shares, `cpu.max` = quota and period. Stateless: everything is in the
/// container's cgroups, so recovery has nothing to rebuild.
public struct CgroupsCPUIsolator: Isolator, CgroupIsolator {
    public let name = "cgroups/cpu"
    private let cpu: CgroupHierarchy
    /// v1 only, when cpuacct is a hierarchy of its own (not co-mounted with cpu).
    private let cpuacct: CgroupHierarchy?

    /// CFS period in microseconds.
    static let period: UInt64 = 100_000

    /// Finds the hierarchies.
    /// - Throws: `unsupported` when neither a v1 `cpu` hierarchy nor a v2 one with `cpu` enabled exists.
    public init(base: String = "/sys/fs/cgroup") throws {
        guard let cpu = CgroupHierarchy.find("cpu", base: base) else {
            throw CapstanError(.unsupported, "Failed to create isolator 'cgroups/cpu': no cpu cgroup hierarchy under '\(base)'")
        }
        self.cpu = cpu
        if cpu.version == .v1, let acct = CgroupHierarchy.find("cpuacct", base: base), acct.version == .v1, acct.root != cpu.root {
            cpuacct = acct
        } else {
            cpuacct = nil
        }
    }

    /// The container's cgroup in the cpu hierarchy.
    public func cgroupPath(of id: ContainerID) -> String { cpu.path(of: id) }

    func checkUsable() throws {
        try cpu.checkUsable()
        try cpuacct?.checkUsable()
    }

    // cgroupfs writes block (a cgroup.procs write waits on the kernel's cgroup locks): they run on the bounded
    // blocking pool, never on the cooperative one.
    public func prepare(_ config: ContainerConfig) async throws -> LaunchHooks? {
        try await Blocking.run { [self] in
            try cpu.create(config.containerID)
            try cpuacct?.create(config.containerID)
            try apply(config.containerID, config.limits)
        }
        return nil
    }

    public func isolate(_ id: ContainerID, pid: Int32) async throws {
        try await Blocking.run { [self] in
            try cpu.add(id, pid: pid)
            try cpuacct?.add(id, pid: pid)
        }
    }

    public func update(_ id: ContainerID, limits: ResourceLimits) async throws {
        try await Blocking.run { [self] in try apply(id, limits) }
    }

    public func usage(_ id: ContainerID) async throws -> ResourceStatistics? {
        let now = Date().timeIntervalSince1970
        switch cpu.version {
        case .v1:
            let stat = Cgroup.keyed((cpuacct ?? cpu).path(of: id) + "/cpuacct.stat")
            guard let user = stat["user"], let system = stat["system"] else { return nil }
            let hz = ProcStat.ticksPerSecond
            var stats = ResourceStatistics(timestamp: now, cpusUserTimeSecs: Double(user) / hz, cpusSystemTimeSecs: Double(system) / hz)
            Self.addThrottling(Cgroup.keyed(cpu.path(of: id) + "/cpu.stat"), timeKey: "throttled_time", secondsPerUnit: 1e-9, to: &stats)
            return stats
        case .v2:
            let stat = Cgroup.keyed(cpu.path(of: id) + "/cpu.stat")
            guard let user = stat["user_usec"], let system = stat["system_usec"] else { return nil }
            var stats = ResourceStatistics(timestamp: now, cpusUserTimeSecs: Double(user) / 1e6, cpusSystemTimeSecs: Double(system) / 1e6)
            Self.addThrottling(stat, timeKey: "throttled_usec", secondsPerUnit: 1e-6, to: &stats)
            return stats
        }
    }

    /// CFS periods, throttled periods and throttled time from a `cpu.stat` (its time key and unit differ by version).
    private static func addThrottling(_ stat: [String: UInt64], timeKey: String, secondsPerUnit: Double, to stats: inout ResourceStatistics) {
        stats.cpusNrPeriods = stat["nr_periods"].map { Int(clamping: $0) }
        stats.cpusNrThrottled = stat["nr_throttled"].map { Int(clamping: $0) }
        stats.cpusThrottledTimeSecs = stat[timeKey].map { Double($0) * secondsPerUnit }
    }

    /// Total CPU time of the container in seconds (`cpuacct.usage`, or `usage_usec`), more precise than `usage`.
    public func cpuTime(_ id: ContainerID) -> Double? {
        switch cpu.version {
        case .v1: Cgroup.readInt((cpuacct ?? cpu).path(of: id) + "/cpuacct.usage").map { Double($0) / 1e9 }
        case .v2: Cgroup.keyed(cpu.path(of: id) + "/cpu.stat")["usage_usec"].map { Double($0) / 1e6 }
        }
    }

    public func watch(_ id: ContainerID) async -> ContainerLimitation? {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        return nil
    }

    public func cleanup(_ id: ContainerID) async throws {
        try await cpu.destroy(id)
        try await cpuacct?.destroy(id)
    }

    public func recover(_ states: [ContainerRecoveryState]) async throws {}

    private func apply(_ id: ContainerID, _ limits: ResourceLimits) throws {
        let directory = cpu.path(of: id)
        let shares = limits.cpus.map { max(2, UInt64(($0 * 1024).rounded())) } ?? 1024
        let quota = limits.cpus.map { max(1000, UInt64(($0 * Double(Self.period)).rounded())) }
        switch cpu.version {
        case .v1:
            try Cgroup.write("\(shares)", to: directory + "/cpu.shares")
            try Cgroup.write("\(Self.period)", to: directory + "/cpu.cfs_period_us")
            try Cgroup.write(quota.map { "\($0)" } ?? "-1", to: directory + "/cpu.cfs_quota_us")
        case .v2:
            let weight = 1 + ((shares - 2) * 9999) / 262_142
            try Cgroup.write("\(weight)", to: directory + "/cpu.weight")
            try Cgroup.write("\(quota.map { "\($0)" } ?? "max") \(Self.period)", to: directory + "/cpu.max")
        }
    }
}
