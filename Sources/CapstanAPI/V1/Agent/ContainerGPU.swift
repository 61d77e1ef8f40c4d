/// Capstan's addition to a container in GET_CONTAINERS and `/containers`, as `capstan_gpus` (absent when the
/// container holds no GPU): one GPU the `gpu/nvidia` isolator granted it, with what NVML measured when asked.
/// The measurements are absent when NVML could not tell; memory counts every process on the GPU.
public struct ContainerGPU: Codable, Sendable, Hashable {
    /// `GPU-…`
    public var uuid: String
    public var memoryUsedBytes: UInt64?
    public var memoryTotalBytes: UInt64?
    /// Percent of NVML's last sample period in which a kernel ran on the GPU.
    public var utilizationPercent: Int?

    enum CodingKeys: String, CodingKey {
        case uuid
        case memoryUsedBytes = "memory_used_bytes"
        case memoryTotalBytes = "memory_total_bytes"
        case utilizationPercent = "utilization_percent"
    }

    /// Creates an entry.
    public init(uuid: String, memoryUsedBytes: UInt64? = nil, memoryTotalBytes: UInt64? = nil, utilizationPercent: Int? = nil) {
        self.uuid = uuid
        self.memoryUsedBytes = memoryUsedBytes
        self.memoryTotalBytes = memoryTotalBytes
        self.utilizationPercent = utilizationPercent
    }
}
