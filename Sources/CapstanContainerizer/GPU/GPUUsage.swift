/// One GPU's memory and utilisation at a moment, as NVML reports them (for GET_CONTAINERS and `/containers`).
/// A field is nil where NVML could not tell (no driver, an old one, or a GPU it no longer knows).
public struct GPUUsage: Sendable, Hashable, Codable {
    /// `GPU-…`
    public var uuid: String
    /// Framebuffer memory in use, by every process on the GPU (`nvmlDeviceGetMemoryInfo`'s `used`).
    public var memoryUsedBytes: UInt64?
    /// Framebuffer memory in all (`nvmlDeviceGetMemoryInfo`'s `total`).
    public var memoryTotalBytes: UInt64?
    /// Percent of the last sample period in which a kernel ran (`nvmlDeviceGetUtilizationRates`'s `gpu`).
    public var utilizationPercent: Int?

    /// Creates a sample.
    public init(uuid: String, memoryUsedBytes: UInt64? = nil, memoryTotalBytes: UInt64? = nil, utilizationPercent: Int? = nil) {
        self.uuid = uuid
        self.memoryUsedBytes = memoryUsedBytes
        self.memoryTotalBytes = memoryTotalBytes
        self.utilizationPercent = utilizationPercent
    }
}
