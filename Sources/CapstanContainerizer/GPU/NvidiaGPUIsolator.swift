public import CapstanCore
import Foundation
import Glibc
public import Logging
import Synchronization

/// `gpu/nvidia`: gives each container the whole GPUs its `gpus` resource asks for, lowest index first, and their
/// NVIDIA device nodes (``LaunchHooks/deviceNodes``): image containers get them in their own `/dev`, and the
/// `cgroups/devices` isolator (``DevicesIsolator``, which the agent always runs with this one) allows exactly them, so
/// command tasks sharing the host's `/dev` still cannot open the other GPUs. The GPUs held travel in the container's
/// checkpoint (``ContainerConfig/gpus``) and are held again at recovery.
public final class NvidiaGPUIsolator: Isolator, Sendable {
    public let name = "gpu/nvidia"
    private let procDevices: @Sendable () -> String
    private let assignments: Mutex<GPUAssignments>
    private let logger: Logger

    /// An isolator handing out `gpus`.
    /// - Parameters:
    ///   - gpus: the GPUs the agent offers.
    ///   - procDevices: `/proc/devices` (read at each launch: the driver may register `nvidia-uvm` late).
    public init(
        gpus: [GPUDevice], logger: Logger,
        procDevices: @escaping @Sendable () -> String = { (try? String(contentsOfFile: "/proc/devices", encoding: .utf8)) ?? "" }
    ) {
        self.procDevices = procDevices
        self.assignments = Mutex(GPUAssignments(devices: gpus))
        self.logger = logger
    }

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
        if !held.isEmpty {
            logger.info("gpu/nvidia: GPUs assigned", metadata: ["container_id": "\(id)", "gpus": "\(held.map(\.uuid).joined(separator: ","))"])
        }
        var hooks = LaunchHooks()
        hooks.gpus = held
        hooks.deviceNodes = NvidiaDeviceNodes.nodes(gpus: held, procDevices: proc)
        return hooks
    }

    public func isolate(_ id: ContainerID, pid: Int32) async throws {}

    public func update(_ id: ContainerID, limits: ResourceLimits) async throws {}

    public func usage(_ id: ContainerID) async throws -> ResourceStatistics? { nil }

    public func watch(_ id: ContainerID) async -> ContainerLimitation? {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        return nil
    }

    public func cleanup(_ id: ContainerID) async throws {
        assignments.withLock { $0.release(id) }
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
