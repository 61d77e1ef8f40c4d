import Testing

@testable import CapstanCore

@Suite("AllocatorBenchmark")
struct AllocatorBenchmarkTests {
    @Test func placesTasksEveryCycleAndTimesEachAllocateCall() {
        var bench = AllocatorBenchmark(agents: 20, frameworks: 3, taskCPUs: 1, taskMem: 1024)
        var ticks = 0.0
        let result = bench.run(cycles: 4) {
            ticks += 1
            return ticks
        }
        #expect(result.agents == 20)
        #expect(result.frameworks == 3)
        #expect(result.cycles == 4)
        // The first cycle offers every agent whole: 8 one-CPU tasks each.
        #expect(result.placements > 20 * 8)
        #expect(result.offers >= 20)
        // The fake clock advances one second per reading: one second per allocate() call.
        #expect(result.cycleSeconds == CycleStatistics(mean: 1, p50: 1, p99: 1, max: 1))
        #expect(result.totalSeconds == 9)
        #expect(result.placementsPerSecond == Double(result.placements) / 9)
        #expect(result.summary.contains("20 agents, 3 frameworks, 4 cycles"))
        #expect(result.summary.contains("mean 1000.000 ms"))
    }

    @Test func neverAllocatesMoreThanAnAgentHolds() {
        var bench = AllocatorBenchmark(agents: 5, frameworks: 4)
        bench.declineRefuseSeconds = 5
        _ = bench.run(cycles: 6) { 0 }
        for index in 0..<5 {
            let agent = AgentID("agent-\(index)")
            let held = bench.allocator.allocations(on: agent).values.reduce(Resources(), +)
            #expect(bench.allocator.total(on: agent).contains(held + bench.allocator.available(on: agent)))
        }
    }

    @Test func summarizesSamplesByNearestRank() {
        let statistics = CycleStatistics(samples: [5, 1, 3, 2, 4])
        #expect(statistics.mean == 3)
        #expect(statistics.p50 == 3)
        #expect(statistics.p99 == 5)
        #expect(statistics.max == 5)
        #expect(CycleStatistics(samples: []) == CycleStatistics(mean: 0, p50: 0, p99: 0, max: 0))
    }
}
