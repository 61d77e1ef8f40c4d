/// A usage sample of one container. Fields a source cannot measure are `nil`.
public struct ResourceStatistics: Sendable, Hashable, Codable {
    /// When the sample was taken, in seconds since the Unix epoch.
    public var timestamp: Double
    /// CPU time spent in user mode, in seconds.
    public var cpusUserTimeSecs: Double?
    /// CPU time spent in kernel mode, in seconds.
    public var cpusSystemTimeSecs: Double?
    /// Resident memory, in bytes.
    public var memRSSBytes: UInt64?
    /// Number of live processes.
    public var processes: Int?
    /// CFS enforcement periods elapsed, periods in which the container was throttled, and time throttled (s).
    public var cpusNrPeriods: Int?
    public var cpusNrThrottled: Int?
    public var cpusThrottledTimeSecs: Double?
    /// Memory charged to the container, page cache included, in bytes.
    public var memTotalBytes: UInt64?
    /// Disk space used by the sandbox and the writable rootfs layer, in bytes, and the limit it is held to.
    public var diskUsedBytes: UInt64?
    public var diskLimitBytes: UInt64?

    /// Creates a sample.
    public init(
        timestamp: Double, cpusUserTimeSecs: Double? = nil, cpusSystemTimeSecs: Double? = nil, memRSSBytes: UInt64? = nil,
        processes: Int? = nil
    ) {
        self.timestamp = timestamp
        self.cpusUserTimeSecs = cpusUserTimeSecs
        self.cpusSystemTimeSecs = cpusSystemTimeSecs
        self.memRSSBytes = memRSSBytes
        self.processes = processes
    }

    /// This sample with every non-`nil` field of `other` laid over it (the timestamp is kept).
    func overlaid(with other: ResourceStatistics) -> ResourceStatistics {
        var merged = self
        merged.cpusUserTimeSecs = other.cpusUserTimeSecs ?? cpusUserTimeSecs
        merged.cpusSystemTimeSecs = other.cpusSystemTimeSecs ?? cpusSystemTimeSecs
        merged.memRSSBytes = other.memRSSBytes ?? memRSSBytes
        merged.processes = other.processes ?? processes
        merged.cpusNrPeriods = other.cpusNrPeriods ?? cpusNrPeriods
        merged.cpusNrThrottled = other.cpusNrThrottled ?? cpusNrThrottled
        merged.cpusThrottledTimeSecs = other.cpusThrottledTimeSecs ?? cpusThrottledTimeSecs
        merged.memTotalBytes = other.memTotalBytes ?? memTotalBytes
        merged.diskUsedBytes = other.diskUsedBytes ?? diskUsedBytes
        merged.diskLimitBytes = other.diskLimitBytes ?? diskLimitBytes
        return merged
    }
}
