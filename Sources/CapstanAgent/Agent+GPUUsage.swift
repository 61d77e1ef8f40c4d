import CapstanAPI
import CapstanContainerizer
import CapstanCore

extension Agent {
    /// `capstan_gpus` of GET_CONTAINERS: the GPUs each container holds under `gpu/nvidia`, with NVML's memory and
    /// utilisation (one NVML session for all of them); containers holding none, and agents without the isolator,
    /// get none.
    func containerGPUs(_ ids: [ContainerID]) async -> [ContainerID: [ContainerGPU]] {
        guard let isolator = isolation.isolators.lazy.compactMap({ $0 as? NvidiaGPUIsolator }).first else { return [:] }
        let usage = await isolator.gpuUsage(of: ids, library: configuration.nvmlLibrary)
        return usage.mapValues { gpus in
            gpus.map {
                ContainerGPU(
                    uuid: $0.uuid, memoryUsedBytes: $0.memoryUsedBytes, memoryTotalBytes: $0.memoryTotalBytes,
                    utilizationPercent: $0.utilizationPercent)
            }
        }
    }
}
