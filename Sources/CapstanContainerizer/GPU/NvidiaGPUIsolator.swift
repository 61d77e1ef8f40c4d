public import CapstanCore
import CapstanLinux
import Foundation
import Glibc
public import Logging
import Synchronization

/// `gpu/nvidia` (with Mesos' `cgroups/devices`): gives each container the whole GPUs its `gpus` resource asks for,
/// lowest index first, and puts every container in a devices cgroup (v1) that denies all devices but a default set
/// and the NVIDIA nodes of the GPUs it holds. Image containers get those nodes in their own `/dev`; command tasks
/// share the host's `/dev`, where the cgroup alone keeps them off the other GPUs. The GPUs held travel in the
/// container's checkpoint (``ContainerConfig/gpus``) and are held again at recovery.
public final class NvidiaGPUIsolator: Isolator, Sendable {
    public let name = "gpu/nvidia"
    private let devices: CgroupHierarchy
    private let procDevices: @Sendable () -> String
    private let assignments: Mutex<GPUAssignments>
    private let logger: Logger

    /// Finds the devices hierarchy.
    /// - Parameters:
    ///   - gpus: the GPUs the agent offers.
    ///   - procDevices: `/proc/devices` (read at each launch: the driver may register `nvidia-uvm` late).
    /// - Throws: `unsupported` when there is no cgroup v1 devices hierarchy under `base` (cgroup v2 needs a device
    ///   BPF program, which Capstan does not attach yet).
    public init(
        gpus: [GPUDevice], base: String = "/sys/fs/cgroup", logger: Logger,
        procDevices: @escaping @Sendable () -> String = { (try? String(contentsOfFile: "/proc/devices", encoding: .utf8)) ?? "" }
    ) throws {
        guard let hierarchy = CgroupHierarchy.find("devices", base: base), hierarchy.version == .v1 else {
            throw CapstanError(
                .unsupported,
                "gpu/nvidia: no cgroup v1 devices hierarchy under '\(base)' (cgroup v2 device programs are not supported yet); leave gpu/nvidia out of --isolation")
        }
        try hierarchy.checkUsable()
        self.devices = hierarchy
        self.procDevices = procDevices
        self.assignments = Mutex(GPUAssignments(devices: gpus))
        self.logger = logger
    }

    /// The container's devices cgroup.
    public func cgroupPath(of id: ContainerID) -> String { devices.path(of: id) }

    /// The GPUs `id` holds.
    public func gpus(of id: ContainerID) -> [GPUDevice] { assignments.withLock { $0.gpus(of: id) } }

    /// The GPUs no container holds.
    public var free: [GPUDevice] { assignments.withLock { $0.free } }

    public func prepare(_ config: ContainerConfig) async throws -> LaunchHooks? {
        let id = config.containerID
        let held = try assignments.withLock { assignments throws(CapstanError) in
            try assignments.assign(config.limits.gpus ?? 0, to: id)
        }
        let proc = procDevices()
        let lines = DeviceCgroupRules.allowLines(gpus: held, procDevices: proc)
        try await Blocking.run { [self] in
            try devices.create(id)
            let path = devices.path(of: id)
            try Cgroup.write("a", to: path + "/devices.deny")
            for line in lines { try Cgroup.write(line, to: path + "/devices.allow") }
        }
        if !held.isEmpty {
            logger.info("gpu/nvidia: GPUs assigned", metadata: ["container_id": "\(id)", "gpus": "\(held.map(\.uuid).joined(separator: ","))"])
        }
        var hooks = LaunchHooks()
        hooks.gpus = held
        hooks.deviceNodes = DeviceCgroupRules.nodes(gpus: held, procDevices: proc)
        return hooks
    }

    public func isolate(_ id: ContainerID, pid: Int32) async throws {
        try await Blocking.run { [self] in try devices.add(id, pid: pid) }
    }

    public func update(_ id: ContainerID, limits: ResourceLimits) async throws {}

    public func usage(_ id: ContainerID) async throws -> ResourceStatistics? { nil }

    public func watch(_ id: ContainerID) async -> ContainerLimitation? {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        return nil
    }

    public func cleanup(_ id: ContainerID) async throws {
        assignments.withLock { $0.release(id) }
        try await devices.destroy(id)
    }

    public func recover(_ states: [ContainerRecoveryState]) async throws {
        assignments.withLock { assignments in
            for state in states where state.pid != nil && !state.config.gpus.isEmpty {
                let kept = assignments.restore(state.config.gpus, to: state.containerID)
                if kept.count != state.config.gpus.count {
                    logger.warning(
                        "gpu/nvidia: a recovered container holds GPUs the agent no longer offers",
                        metadata: ["container_id": "\(state.containerID)", "gpus": "\(state.config.gpus.map(\.uuid).joined(separator: ","))"])
                }
            }
        }
    }
}
