import CapstanCore
import Testing

@Suite("PlanBenchmark")
struct PlanBenchmarkTests {
    @Test func theSimulatedMixHasEveryAction() {
        let benchmark = PlanBenchmark(apps: 200, agents: 20)
        #expect(benchmark.snapshot.tasks.count == 200)
        var tick = 0.0
        let result = benchmark.run(iterations: 2) {
            tick += 0.5
            return tick
        }
        #expect(result.iterations == 2)
        #expect(result.planSeconds.mean == 0.5)
        #expect(result.summary == "4 to create, 10 to update, 10 to scale, 4 to delete, 176 unchanged")
        #expect(result.fieldChanges == 30, "10 updates change image and env.VERSION; 10 scales change spec.instances")
        #expect(result.willNotFit == 0)
        #expect(result.text.hasPrefix("plan: 200 apps vs 200 running tasks, 20 agents, 2 iterations\n"))
    }
}
