public import CapstanCore

/// Which of an agent's GPUs each container holds: whole GPUs, handed out lowest NVML index first, freed when the
/// container ends, and restored from checkpoints at recovery. Pure bookkeeping; the `gpu/nvidia` isolator owns one.
public struct GPUAssignments: Sendable {
    /// Every GPU the agent offers, by NVML index.
    public let devices: [GPUDevice]
    private var held: [ContainerID: [GPUDevice]] = [:]

    /// Creates the bookkeeping for the GPUs the agent offers (`--nvidia-gpu-devices`, or every GPU NVML reports).
    public init(devices: [GPUDevice]) {
        self.devices = devices.sorted { $0.index < $1.index }
    }

    /// The GPUs no container holds, lowest index first.
    public var free: [GPUDevice] {
        let taken = Set(held.values.joined().map(\.index))
        return devices.filter { !taken.contains($0.index) }
    }

    /// The GPUs `id` holds (empty when none).
    public func gpus(of id: ContainerID) -> [GPUDevice] { held[id] ?? [] }

    /// Gives `id` `count` free GPUs, lowest index first; a container that already holds GPUs keeps them.
    /// - Throws: `failedPrecondition` naming how many are asked for, how many are free, and how many the agent has.
    public mutating func assign(_ count: Int, to id: ContainerID) throws(CapstanError) -> [GPUDevice] {
        if let existing = held[id] { return existing }
        guard count > 0 else { return [] }
        let free = self.free
        guard count <= free.count else {
            throw CapstanError(
                .failedPrecondition,
                "gpu/nvidia: container '\(id)' asks for \(count) GPU\(count == 1 ? "" : "s") but only \(free.count) of the agent's \(devices.count) \(free.count == 1 ? "is" : "are") free")
        }
        let chosen = Array(free.prefix(count))
        held[id] = chosen
        return chosen
    }

    /// Records that `id` holds `gpus` (recovery, from its checkpoint). GPUs the agent no longer offers are dropped;
    /// returns the ones it keeps.
    @discardableResult
    public mutating func restore(_ gpus: [GPUDevice], to id: ContainerID) -> [GPUDevice] {
        let offered = Set(devices.map(\.uuid))
        let kept = gpus.filter { offered.contains($0.uuid) }
        if kept.isEmpty { held[id] = nil } else { held[id] = kept }
        return kept
    }

    /// Frees what `id` holds (nothing when it holds nothing).
    public mutating func release(_ id: ContainerID) {
        held[id] = nil
    }
}
