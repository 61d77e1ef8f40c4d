public import CapstanCore
import CapstanLinux
import Foundation
import Glibc

/// `cgroups/pids`: caps the number of processes and threads of a container (`pids.max`) at
/// ``ResourceLimits/maxProcesses``, or at the isolator's default; reports the live count as `processes`.
/// A fork past the limit fails with EAGAIN inside the container; that is not a limitation that ends it.
public struct CgroupsPIDsIsolator: Isolator, CgroupIsolator {
    public let name = "cgroups/pids"
    private let pids: CgroupHierarchy
    private let defaultMax: Int?

    /// Finds the hierarchy.
    /// - Parameter defaultMax: the limit for containers whose ``ResourceLimits/maxProcesses`` is `nil`; `nil` = no limit.
    /// - Throws: `unsupported` when there is no pids hierarchy.
    public init(base: String = "/sys/fs/cgroup", defaultMax: Int? = nil) throws {
        guard let pids = CgroupHierarchy.find("pids", base: base) else {
            throw CapstanError(.unsupported, "Failed to create isolator 'cgroups/pids': no pids cgroup hierarchy under '\(base)'")
        }
        self.pids = pids
        self.defaultMax = defaultMax
    }

    /// The container's pids cgroup.
    public func cgroupPath(of id: ContainerID) -> String { pids.path(of: id) }

    func checkUsable() throws {
        try pids.checkUsable()
    }

    // cgroupfs writes block (a cgroup.procs write waits on the kernel's cgroup locks): they run on the bounded
    // blocking pool, never on the cooperative one.
    public func prepare(_ config: ContainerConfig) async throws -> LaunchHooks? {
        try await Blocking.run { [self] in
            try pids.create(config.containerID)
            try apply(config.containerID, config.limits)
        }
        return nil
    }

    public func isolate(_ id: ContainerID, pid: Int32) async throws {
        try await Blocking.run { [self] in try pids.add(id, pid: pid) }
    }

    public func update(_ id: ContainerID, limits: ResourceLimits) async throws {
        try await Blocking.run { [self] in try apply(id, limits) }
    }

    public func usage(_ id: ContainerID) async throws -> ResourceStatistics? {
        guard let current = Cgroup.readInt(pids.path(of: id) + "/pids.current") else { return nil }
        return ResourceStatistics(timestamp: Date().timeIntervalSince1970, processes: Int(current))
    }

    public func watch(_ id: ContainerID) async -> ContainerLimitation? {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        return nil
    }

    public func cleanup(_ id: ContainerID) async throws {
        try await pids.destroy(id)
    }

    public func recover(_ states: [ContainerRecoveryState]) async throws {}

    /// How many forks the limit refused (`pids.events` `max`).
    public func refusedForks(_ id: ContainerID) -> UInt64 {
        Cgroup.keyed(pids.path(of: id) + "/pids.events")["max"] ?? 0
    }

    private func apply(_ id: ContainerID, _ limits: ResourceLimits) throws {
        let limit = limits.maxProcesses ?? defaultMax
        try Cgroup.write(limit.map { "\(max($0, 1))" } ?? "max", to: pids.path(of: id) + "/pids.max")
    }
}
