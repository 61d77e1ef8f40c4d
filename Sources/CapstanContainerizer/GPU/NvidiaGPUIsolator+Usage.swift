public import CapstanCore
import CapstanLinux

extension NvidiaGPUIsolator {
    /// The GPUs each of `ids` holds, in index order, with their memory and utilisation now from one NVML session
    /// (`library`); containers holding none are left out. NVML runs on the blocking pool; when it cannot be loaded
    /// the GPUs come back with nil measurements.
    public func gpuUsage(of ids: [ContainerID], library: String) async -> [ContainerID: [GPUUsage]] {
        let held = ids.map { ($0, gpus(of: $0).map(\.uuid)) }.filter { !$0.1.isEmpty }
        guard !held.isEmpty else { return [:] }
        let uuids = held.flatMap(\.1)
        let samples = (try? await Blocking.run { NVMLLibrary.usage(of: uuids, library: library) }) ?? uuids.map { GPUUsage(uuid: $0) }
        var byUUID: [String: GPUUsage] = [:]
        for sample in samples { byUUID[sample.uuid] = sample }
        var result: [ContainerID: [GPUUsage]] = [:]
        for (id, gpus) in held { result[id] = gpus.map { byUUID[$0] ?? GPUUsage(uuid: $0) } }
        return result
    }
}
