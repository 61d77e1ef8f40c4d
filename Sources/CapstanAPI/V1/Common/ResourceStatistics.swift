/// `ResourceStatistics`: a usage snapshot of one container (scalar counters only; perf, blkio, SNMP, traffic
/// control and rate statistics are not modelled).
public struct ResourceStatistics: Codable, Sendable, Hashable {
    public var timestamp: Double
    public var processes: UInt32?
    public var threads: UInt32?
    public var cpusUserTimeSecs: Double?
    public var cpusSystemTimeSecs: Double?
    public var cpusLimit: Double?
    public var cpusSoftLimit: Double?
    public var cpusNrPeriods: UInt32?
    public var cpusNrThrottled: UInt32?
    public var cpusThrottledTimeSecs: Double?
    @OptionalWireInteger public var memTotalBytes: UInt64?
    @OptionalWireInteger public var memTotalMemswBytes: UInt64?
    @OptionalWireInteger public var memKmemUsageBytes: UInt64?
    @OptionalWireInteger public var memKmemTCPUsageBytes: UInt64?
    @OptionalWireInteger public var memLimitBytes: UInt64?
    @OptionalWireInteger public var memSoftLimitBytes: UInt64?
    @OptionalWireInteger public var memFileBytes: UInt64?
    @OptionalWireInteger public var memAnonBytes: UInt64?
    @OptionalWireInteger public var memCacheBytes: UInt64?
    @OptionalWireInteger public var memRssBytes: UInt64?
    @OptionalWireInteger public var memMappedFileBytes: UInt64?
    @OptionalWireInteger public var memSwapBytes: UInt64?
    @OptionalWireInteger public var memUnevictableBytes: UInt64?
    @OptionalWireInteger public var memLowPressureCounter: UInt64?
    @OptionalWireInteger public var memMediumPressureCounter: UInt64?
    @OptionalWireInteger public var memCriticalPressureCounter: UInt64?
    @OptionalWireInteger public var diskLimitBytes: UInt64?
    @OptionalWireInteger public var diskUsedBytes: UInt64?
    @OptionalWireInteger public var netRxPackets: UInt64?
    @OptionalWireInteger public var netRxBytes: UInt64?
    @OptionalWireInteger public var netRxErrors: UInt64?
    @OptionalWireInteger public var netRxDropped: UInt64?
    @OptionalWireInteger public var netTxPackets: UInt64?
    @OptionalWireInteger public var netTxBytes: UInt64?
    @OptionalWireInteger public var netTxErrors: UInt64?
    @OptionalWireInteger public var netTxDropped: UInt64?
    @OptionalWireInteger public var netTxRateLimit: UInt64?
    @OptionalWireInteger public var netTxBurstRateLimit: UInt64?
    @OptionalWireInteger public var netTxBurstSize: UInt64?
    @OptionalWireInteger public var netRxRateLimit: UInt64?
    @OptionalWireInteger public var netRxBurstRateLimit: UInt64?
    @OptionalWireInteger public var netRxBurstSize: UInt64?
    public var netTCPRTTMicrosecsP50: Double?
    public var netTCPRTTMicrosecsP90: Double?
    public var netTCPRTTMicrosecsP95: Double?
    public var netTCPRTTMicrosecsP99: Double?
    public var netTCPActiveConnections: Double?
    public var netTCPTimeWaitConnections: Double?
    public var netEphemeralPorts: MesosValueRange?

    enum CodingKeys: String, CodingKey {
        case timestamp
        case processes
        case threads
        case cpusUserTimeSecs = "cpus_user_time_secs"
        case cpusSystemTimeSecs = "cpus_system_time_secs"
        case cpusLimit = "cpus_limit"
        case cpusSoftLimit = "cpus_soft_limit"
        case cpusNrPeriods = "cpus_nr_periods"
        case cpusNrThrottled = "cpus_nr_throttled"
        case cpusThrottledTimeSecs = "cpus_throttled_time_secs"
        case memTotalBytes = "mem_total_bytes"
        case memTotalMemswBytes = "mem_total_memsw_bytes"
        case memKmemUsageBytes = "mem_kmem_usage_bytes"
        case memKmemTCPUsageBytes = "mem_kmem_tcp_usage_bytes"
        case memLimitBytes = "mem_limit_bytes"
        case memSoftLimitBytes = "mem_soft_limit_bytes"
        case memFileBytes = "mem_file_bytes"
        case memAnonBytes = "mem_anon_bytes"
        case memCacheBytes = "mem_cache_bytes"
        case memRssBytes = "mem_rss_bytes"
        case memMappedFileBytes = "mem_mapped_file_bytes"
        case memSwapBytes = "mem_swap_bytes"
        case memUnevictableBytes = "mem_unevictable_bytes"
        case memLowPressureCounter = "mem_low_pressure_counter"
        case memMediumPressureCounter = "mem_medium_pressure_counter"
        case memCriticalPressureCounter = "mem_critical_pressure_counter"
        case diskLimitBytes = "disk_limit_bytes"
        case diskUsedBytes = "disk_used_bytes"
        case netRxPackets = "net_rx_packets"
        case netRxBytes = "net_rx_bytes"
        case netRxErrors = "net_rx_errors"
        case netRxDropped = "net_rx_dropped"
        case netTxPackets = "net_tx_packets"
        case netTxBytes = "net_tx_bytes"
        case netTxErrors = "net_tx_errors"
        case netTxDropped = "net_tx_dropped"
        case netTxRateLimit = "net_tx_rate_limit"
        case netTxBurstRateLimit = "net_tx_burst_rate_limit"
        case netTxBurstSize = "net_tx_burst_size"
        case netRxRateLimit = "net_rx_rate_limit"
        case netRxBurstRateLimit = "net_rx_burst_rate_limit"
        case netRxBurstSize = "net_rx_burst_size"
        case netTCPRTTMicrosecsP50 = "net_tcp_rtt_microsecs_p50"
        case netTCPRTTMicrosecsP90 = "net_tcp_rtt_microsecs_p90"
        case netTCPRTTMicrosecsP95 = "net_tcp_rtt_microsecs_p95"
        case netTCPRTTMicrosecsP99 = "net_tcp_rtt_microsecs_p99"
        case netTCPActiveConnections = "net_tcp_active_connections"
        case netTCPTimeWaitConnections = "net_tcp_time_wait_connections"
        case netEphemeralPorts = "net_ephemeral_ports"
    }

    public init(
        timestamp: Double, processes: UInt32? = nil, threads: UInt32? = nil, cpusUserTimeSecs: Double? = nil,
        cpusSystemTimeSecs: Double? = nil, cpusLimit: Double? = nil, cpusSoftLimit: Double? = nil,
        cpusNrPeriods: UInt32? = nil, cpusNrThrottled: UInt32? = nil, cpusThrottledTimeSecs: Double? = nil,
        memTotalBytes: UInt64? = nil, memTotalMemswBytes: UInt64? = nil, memKmemUsageBytes: UInt64? = nil,
        memKmemTCPUsageBytes: UInt64? = nil, memLimitBytes: UInt64? = nil, memSoftLimitBytes: UInt64? = nil,
        memFileBytes: UInt64? = nil, memAnonBytes: UInt64? = nil, memCacheBytes: UInt64? = nil,
        memRssBytes: UInt64? = nil, memMappedFileBytes: UInt64? = nil, memSwapBytes: UInt64? = nil,
        memUnevictableBytes: UInt64? = nil, memLowPressureCounter: UInt64? = nil,
        memMediumPressureCounter: UInt64? = nil, memCriticalPressureCounter: UInt64? = nil,
        diskLimitBytes: UInt64? = nil, diskUsedBytes: UInt64? = nil, netRxPackets: UInt64? = nil,
        netRxBytes: UInt64? = nil, netRxErrors: UInt64? = nil, netRxDropped: UInt64? = nil, netTxPackets: UInt64? = nil,
        netTxBytes: UInt64? = nil, netTxErrors: UInt64? = nil, netTxDropped: UInt64? = nil,
        netTxRateLimit: UInt64? = nil, netTxBurstRateLimit: UInt64? = nil, netTxBurstSize: UInt64? = nil,
        netRxRateLimit: UInt64? = nil, netRxBurstRateLimit: UInt64? = nil, netRxBurstSize: UInt64? = nil,
        netTCPRTTMicrosecsP50: Double? = nil, netTCPRTTMicrosecsP90: Double? = nil,
        netTCPRTTMicrosecsP95: Double? = nil, netTCPRTTMicrosecsP99: Double? = nil,
        netTCPActiveConnections: Double? = nil, netTCPTimeWaitConnections: Double? = nil,
        netEphemeralPorts: MesosValueRange? = nil
    ) {
        self.timestamp = timestamp
        self.processes = processes
        self.threads = threads
        self.cpusUserTimeSecs = cpusUserTimeSecs
        self.cpusSystemTimeSecs = cpusSystemTimeSecs
        self.cpusLimit = cpusLimit
        self.cpusSoftLimit = cpusSoftLimit
        self.cpusNrPeriods = cpusNrPeriods
        self.cpusNrThrottled = cpusNrThrottled
        self.cpusThrottledTimeSecs = cpusThrottledTimeSecs
        self.memTotalBytes = memTotalBytes
        self.memTotalMemswBytes = memTotalMemswBytes
        self.memKmemUsageBytes = memKmemUsageBytes
        self.memKmemTCPUsageBytes = memKmemTCPUsageBytes
        self.memLimitBytes = memLimitBytes
        self.memSoftLimitBytes = memSoftLimitBytes
        self.memFileBytes = memFileBytes
        self.memAnonBytes = memAnonBytes
        self.memCacheBytes = memCacheBytes
        self.memRssBytes = memRssBytes
        self.memMappedFileBytes = memMappedFileBytes
        self.memSwapBytes = memSwapBytes
        self.memUnevictableBytes = memUnevictableBytes
        self.memLowPressureCounter = memLowPressureCounter
        self.memMediumPressureCounter = memMediumPressureCounter
        self.memCriticalPressureCounter = memCriticalPressureCounter
        self.diskLimitBytes = diskLimitBytes
        self.diskUsedBytes = diskUsedBytes
        self.netRxPackets = netRxPackets
        self.netRxBytes = netRxBytes
        self.netRxErrors = netRxErrors
        self.netRxDropped = netRxDropped
        self.netTxPackets = netTxPackets
        self.netTxBytes = netTxBytes
        self.netTxErrors = netTxErrors
        self.netTxDropped = netTxDropped
        self.netTxRateLimit = netTxRateLimit
        self.netTxBurstRateLimit = netTxBurstRateLimit
        self.netTxBurstSize = netTxBurstSize
        self.netRxRateLimit = netRxRateLimit
        self.netRxBurstRateLimit = netRxBurstRateLimit
        self.netRxBurstSize = netRxBurstSize
        self.netTCPRTTMicrosecsP50 = netTCPRTTMicrosecsP50
        self.netTCPRTTMicrosecsP90 = netTCPRTTMicrosecsP90
        self.netTCPRTTMicrosecsP95 = netTCPRTTMicrosecsP95
        self.netTCPRTTMicrosecsP99 = netTCPRTTMicrosecsP99
        self.netTCPActiveConnections = netTCPActiveConnections
        self.netTCPTimeWaitConnections = netTCPTimeWaitConnections
        self.netEphemeralPorts = netEphemeralPorts
    }
}
