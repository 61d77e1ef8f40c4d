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
///
/// A container from an image that asks for the driver (``NvidiaDriverFiles/wantsVolume``) also gets the driver
/// volume read-only at `/usr/local/nvidia` (``NvidiaDriverVolume``); when the agent has an NVIDIA CDI spec (kind
/// `nvidia.com/gpu`), it gets its GPUs' CDI edits instead (``NvidiaCDIEdits``). A GPU in MIG mode brings the access
/// capability nodes of its instances (``NvidiaMIGCapabilities``).
public final class NvidiaGPUIsolator: Isolator, Sendable {
    public let name = "gpu/nvidia"
    private let procDevices: @Sendable () -> String
    private let assignments: Mutex<GPUAssignments>
    private let logger: Logger
    private let driverVolume: NvidiaDriverVolume?
    private let cdi: CDIRegistry
    private let cdiLookup: CDIHostDevice.Lookup
    private let migMinors: @Sendable () -> String

    /// An isolator handing out `gpus`.
    /// - Parameters:
    ///   - gpus: the GPUs the agent offers.
    ///   - procDevices: `/proc/devices` (read at each launch: the driver may register `nvidia-uvm` late).
    ///   - driverVolume: the driver volume image containers that ask for it get; nil: none.
    ///   - cdi: the agent's CDI specs; with devices of kind `nvidia.com/gpu`, containers get their GPUs' edits.
    ///   - cdiLookup: how the CDI spec's host device nodes are looked up.
    ///   - migMinors: `/proc/driver/nvidia-caps/mig-minors` (read at each launch of a container holding GPUs).
    public init(
        gpus: [GPUDevice], logger: Logger,
        procDevices: @escaping @Sendable () -> String = { (try? String(contentsOfFile: "/proc/devices", encoding: .utf8)) ?? "" },
        driverVolume: NvidiaDriverVolume? = nil, cdi: CDIRegistry = CDIRegistry(directories: [], specFiles: []),
        cdiLookup: @escaping CDIHostDevice.Lookup = CDIHostDevice.system,
        migMinors: @escaping @Sendable () -> String = {
            (try? String(contentsOfFile: NvidiaMIGCapabilities.migMinorsPath, encoding: .utf8)) ?? ""
        }
    ) {
        self.procDevices = procDevices
        self.driverVolume = driverVolume
        self.cdi = cdi
        self.cdiLookup = cdiLookup
        self.migMinors = migMinors
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
        guard !held.isEmpty else { return hooks }
        if held.contains(where: { !$0.migDevices.isEmpty }) {
            let caps = NvidiaMIGCapabilities(parsing: migMinors()).nodes(gpus: held, procDevices: proc)
            hooks.deviceNodes = NvidiaCDIEdits.merging(hooks.deviceNodes, caps)
        }
        try addDriver(to: &hooks, config, held: held)
        return hooks
    }

    /// The driver's files: the CDI spec's edits for `held` when the agent has an NVIDIA spec, else the driver volume
    /// when the container's image asks for it. Command tasks get only the spec's device nodes (they see the host).
    private func addDriver(to hooks: inout LaunchHooks, _ config: ContainerConfig, held: [GPUDevice]) throws {
        let id = config.containerID
        if NvidiaCDIEdits.present(in: cdi) {
            let names = try NvidiaCDIEdits.deviceNames(for: held, in: cdi)
            let application = NvidiaCDIEdits.application(of: try CDIDevicePlan(try cdi.resolve(names).edits, lookup: cdiLookup))
            if !application.ignored.isEmpty {
                logger.warning(
                    "gpu/nvidia: edits of the NVIDIA CDI spec that Capstan does not apply",
                    metadata: ["container_id": "\(id)", "ignored": "\(application.ignored.joined(separator: "; "))"])
            }
            hooks.deviceNodes = NvidiaCDIEdits.merging(application.hooks.deviceNodes, hooks.deviceNodes)
            guard config.rootfs != nil else { return }
            hooks.mounts += application.hooks.mounts
            hooks.environment.merge(application.hooks.environment) { _, spec in spec }
            logger.info("gpu/nvidia: NVIDIA CDI edits applied", metadata: ["container_id": "\(id)", "devices": "\(names.joined(separator: ","))"])
        } else if let driverVolume,
            NvidiaDriverFiles.wantsVolume(imageConfig: config.imageConfig, hasRootfs: config.rootfs != nil, gpus: held.count)
        {
            hooks.mounts.append(driverVolume.mount)
            logger.info(
                "gpu/nvidia: driver volume mounted", metadata: ["container_id": "\(id)", "volume": "\(driverVolume.directory)"])
        }
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
