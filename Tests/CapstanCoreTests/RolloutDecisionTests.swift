import CapstanCore
import Testing

@Suite("RolloutDecision") struct RolloutDecisionTests {
    func task(_ id: String, _ template: String, _ phase: RolloutTask.Phase = .running, healthy: Bool = true, order: Int = 0) -> RolloutTask {
        RolloutTask(id: id, template: template, phase: phase, healthy: healthy, launchOrder: order)
    }

    @Test func createsAllInstancesAtOnce() {
        let d = RolloutDecision.decide(instances: 3, template: "new", minHealthy: 3, maxSurge: 1, tasks: [])
        #expect(d.launch == 3)
        #expect(d.kill.isEmpty)
        #expect(!d.converged)
    }

    @Test func convergedWhenAllHealthy() {
        let tasks = (1...3).map { task("t\($0)", "new") }
        let d = RolloutDecision.decide(instances: 3, template: "new", minHealthy: 3, maxSurge: 1, tasks: tasks)
        #expect(d == RolloutDecision(converged: true))
    }

    @Test func rollingUpdateSurgesOneThenKillsOldOnlyAfterNewIsHealthy() {
        var tasks = (1...3).map { task("old\($0)", "old") }
        var d = RolloutDecision.decide(instances: 3, template: "new", minHealthy: 3, maxSurge: 1, tasks: tasks)
        #expect(d.launch == 1)
        #expect(d.kill.isEmpty)
        tasks.append(task("new1", "new", .pending, healthy: false))
        d = RolloutDecision.decide(instances: 3, template: "new", minHealthy: 3, maxSurge: 1, tasks: tasks)
        #expect(d.launch == 0)
        #expect(d.kill.isEmpty)
        tasks[3] = task("new1", "new", .running, healthy: true)
        d = RolloutDecision.decide(instances: 3, template: "new", minHealthy: 3, maxSurge: 1, tasks: tasks)
        #expect(d.kill.count == 1)
        #expect(d.launch == 0, "the killed task still holds its place until it is gone")
        tasks.removeAll { d.kill.contains($0.id) }
        d = RolloutDecision.decide(instances: 3, template: "new", minHealthy: 3, maxSurge: 1, tasks: tasks)
        #expect(d.launch == 1)
    }

    @Test func scaleDownKillsPendingThenUnhealthyThenNewest() {
        let tasks = [
            task("a", "t", order: 1), task("b", "t", order: 5), task("c", "t", .running, healthy: false, order: 2),
            task("d", "t", .pending, healthy: false, order: 3),
        ]
        let d = RolloutDecision.decide(instances: 1, template: "t", minHealthy: 1, maxSurge: 1, tasks: tasks)
        #expect(d.kill == ["d", "c", "b"])
        #expect(d.launch == 0)
    }

    @Test func unhealthyOldTasksGoAtOnce() {
        let tasks = [task("o1", "old", .running, healthy: false), task("o2", "old")]
        let d = RolloutDecision.decide(instances: 2, template: "new", minHealthy: 2, maxSurge: 1, tasks: tasks)
        #expect(d.kill == ["o1"])
        #expect(d.launch == 1)
    }

    @Test func noSurgeAndFullMinHealthyIsStuckWithAReason() {
        let tasks = [task("o1", "old"), task("o2", "old")]
        let d = RolloutDecision.decide(instances: 2, template: "new", minHealthy: 2, maxSurge: 0, tasks: tasks)
        #expect(d.launch == 0 && d.kill.isEmpty)
        #expect(d.stuck?.contains("maxSurge") == true)
    }

    @Test func killingTasksAreNotCounted() {
        let tasks = [task("o1", "old", .killing, healthy: false), task("n1", "new")]
        let d = RolloutDecision.decide(instances: 2, template: "new", minHealthy: 2, maxSurge: 1, tasks: tasks)
        #expect(d.launch == 1)
        #expect(!d.updating)
    }

    /// Drives a whole rolling update to the end with tasks becoming healthy one step after launch, and checks the
    /// invariants at every step: healthy ≥ minHealthy (once reached) and live ≤ instances + maxSurge.
    @Test(arguments: [(5, 5, 1), (5, 3, 2), (4, 0, 4), (10, 9, 3), (3, 2, 0)])
    func simulatedRolloutKeepsTheInvariants(instances: Int, minHealthy: Int, maxSurge: Int) {
        var tasks = (0..<instances).map { task("old\($0)", "old", order: $0) }
        var next = 0
        var steps = 0
        while steps < 100 {
            steps += 1
            // Pending tasks from the previous step come up healthy.
            tasks = tasks.map { $0.phase == .pending ? task($0.id, $0.template, .running, healthy: true, order: $0.launchOrder) : $0 }
            let d = RolloutDecision.decide(instances: instances, template: "new", minHealthy: minHealthy, maxSurge: maxSurge, tasks: tasks)
            if d.converged { break }
            tasks.removeAll { d.kill.contains($0.id) }
            #expect(tasks.filter(\.healthy).count >= minHealthy, "healthy dropped below minHealthy at step \(steps)")
            for _ in 0..<d.launch {
                next += 1
                tasks.append(task("new\(next)", "new", .pending, healthy: false, order: 100 + next))
            }
            #expect(tasks.count <= instances + maxSurge, "live tasks exceeded the surge ceiling at step \(steps)")
        }
        #expect(tasks.count == instances)
        #expect(tasks.allSatisfy { $0.template == "new" })
        #expect(steps < 100)
    }

    @Test func backoffGrowsByFactorUpToMax() {
        let backoff = RestartBackoff(delay: .seconds(1), factor: 2, max: .seconds(5))
        #expect(backoff.delay(afterFailures: 0) == .zero)
        #expect(backoff.delay(afterFailures: 1) == .seconds(1))
        #expect(backoff.delay(afterFailures: 3) == .seconds(4))
        #expect(backoff.delay(afterFailures: 9) == .seconds(5))
    }
}
