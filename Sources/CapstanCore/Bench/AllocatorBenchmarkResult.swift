/// Mean, median, tail and worst of a set of timings, in seconds.
public struct CycleStatistics: Hashable, Sendable {
    /// The arithmetic mean.
    public var mean: Double
    /// The median.
    public var p50: Double
    /// The 99th percentile (nearest rank).
    public var p99: Double
    /// The slowest.
    public var max: Double

    /// Summarizes `samples`; all zero when there are none.
    public init(samples: [Double]) {
        guard !samples.isEmpty else {
            self.init(mean: 0, p50: 0, p99: 0, max: 0)
            return
        }
        let sorted = samples.sorted()
        func rank(_ percent: Int) -> Double {
            let index = (percent * sorted.count + 99) / 100 - 1
            return sorted[Swift.min(Swift.max(index, 0), sorted.count - 1)]
        }
        self.init(
            mean: sorted.reduce(0, +) / Double(sorted.count), p50: rank(50), p99: rank(99),
            max: sorted[sorted.count - 1])
    }

    /// Creates statistics from known values.
    public init(mean: Double, p50: Double, p99: Double, max: Double) {
        self.mean = mean
        self.p50 = p50
        self.p99 = p99
        self.max = max
    }
}

/// What one ``AllocatorBenchmark`` run measured.
public struct AllocatorBenchmarkResult: Hashable, Sendable {
    /// Agents in the simulated cluster.
    public var agents: Int
    /// Frameworks in the simulated cluster.
    public var frameworks: Int
    /// Allocation cycles run.
    public var cycles: Int
    /// Time spent in each `allocate(now:)` call.
    public var cycleSeconds: CycleStatistics
    /// Offers (allocations) made over the run.
    public var offers: Int
    /// Tasks placed over the run.
    public var placements: Int
    /// Wall time of the whole run: allocation plus the simulated frameworks' accept, decline and
    /// task-finish calls into the allocator.
    public var totalSeconds: Double
    /// `placements / totalSeconds`.
    public var placementsPerSecond: Double

    /// Creates a result.
    public init(
        agents: Int, frameworks: Int, cycles: Int, cycleSeconds: CycleStatistics, offers: Int, placements: Int,
        totalSeconds: Double
    ) {
        self.agents = agents
        self.frameworks = frameworks
        self.cycles = cycles
        self.cycleSeconds = cycleSeconds
        self.offers = offers
        self.placements = placements
        self.totalSeconds = totalSeconds
        placementsPerSecond = totalSeconds > 0 ? Double(placements) / totalSeconds : 0
    }

    /// A few lines for people, such as:
    /// ```
    /// allocator: 10000 agents, 100 frameworks, 20 cycles
    /// allocate(): mean 9.812 ms, p50 9.640 ms, p99 14.020 ms, max 14.020 ms
    /// offers: 200000, placements: 170000 (1234567 placements/s over 0.138 s)
    /// ```
    public var summary: String {
        func ms(_ seconds: Double) -> String { ScalarFormat.fixed(seconds * 1000, decimals: 3) + " ms" }
        return """
            allocator: \(agents) agents, \(frameworks) frameworks, \(cycles) cycles
            allocate(): mean \(ms(cycleSeconds.mean)), p50 \(ms(cycleSeconds.p50)), \
            p99 \(ms(cycleSeconds.p99)), max \(ms(cycleSeconds.max))
            offers: \(offers), placements: \(placements) \
            (\(ScalarFormat.fixed(placementsPerSecond, decimals: 0)) placements/s over \
            \(ScalarFormat.fixed(totalSeconds, decimals: 3)) s)
            """
    }
}
