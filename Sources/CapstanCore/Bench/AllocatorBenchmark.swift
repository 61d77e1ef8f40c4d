/// A simulated cluster driving a ``DRFAllocator``, for `capstan bench allocator`.
///
/// Every agent has `cpus:8; mem:32768; disk:100000; ports:[31000-32000]`; frameworks are spread
/// over four roles. Each cycle first finishes a random quarter of the running task groups
/// (recovering their resources), then calls `allocate(now:)`; each framework accepts its offers
/// by packing as many task-sized slices as fit and returns the rest with
/// ``declineRefuseSeconds`` (default 0).
/// Time comes from the caller's clock, so the harness itself does no I/O.
public struct AllocatorBenchmark: Sendable {
    /// Tasks one framework runs on one agent, launched from one offer.
    struct TaskGroup: Sendable {
        var framework: FrameworkID
        var agent: AgentID
        var resources: Resources
    }

    /// Agents in the simulated cluster.
    public let agents: Int
    /// Frameworks in the simulated cluster.
    public let frameworks: Int
    /// CPUs per task.
    public let taskCPUs: Double
    /// Memory (MB) per task.
    public let taskMem: Double
    /// The chance that a running task group finishes before each cycle.
    public var finishProbability = 0.25
    /// The `refuseSeconds` frameworks pass when returning the unused part of an offer (0: no
    /// filter; Mesos schedulers default to 5, which makes the allocator check filters).
    public var declineRefuseSeconds = 0.0

    /// The allocator being driven, for inspection.
    public private(set) var allocator: DRFAllocator
    private var generator: SeededGenerator
    private var running: [TaskGroup] = []
    private var simulatedTime = 0.0

    /// Builds the cluster: `agents` agents and `frameworks` frameworks, all registered.
    public init(
        agents: Int = 10_000, frameworks: Int = 100, taskCPUs: Double = 0.5, taskMem: Double = 256, seed: UInt64 = 1
    ) {
        self.agents = agents
        self.frameworks = frameworks
        self.taskCPUs = taskCPUs
        self.taskMem = taskMem
        generator = SeededGenerator(seed: seed ^ 0xBE7C_4000)
        allocator = DRFAllocator(config: AllocatorConfig(seed: seed))
        let total = Resources([
            .scalar("cpus", 8), .scalar("mem", 32768), .scalar("disk", 100_000),
            .ranges("ports", [ValueRange(begin: 31000, end: 32000)]),
        ])
        for index in 0..<max(0, agents) { allocator.addAgent(AgentID("agent-\(index)"), total: total) }
        for index in 0..<max(0, frameworks) {
            allocator.addFramework(FrameworkID("framework-\(index)"), role: "role-\(index % 4)")
        }
    }

    /// Runs `cycles` allocation cycles, timing each `allocate(now:)` call with `clock`
    /// (monotonic seconds, any origin).
    public mutating func run(cycles: Int, clock: () -> Double) -> AllocatorBenchmarkResult {
        var samples: [Double] = []
        samples.reserveCapacity(max(0, cycles))
        var offers = 0
        var placements = 0
        let start = clock()
        for _ in 0..<max(0, cycles) {
            finishTasks()
            let before = clock()
            let allocations = allocator.allocate(now: simulatedTime)
            samples.append(clock() - before)
            offers += allocations.count
            for allocation in allocations { placements += accept(allocation) }
            simulatedTime += 1
        }
        let totalSeconds = clock() - start
        return AllocatorBenchmarkResult(
            agents: agents, frameworks: frameworks, cycles: max(0, cycles),
            cycleSeconds: CycleStatistics(samples: samples), offers: offers, placements: placements,
            totalSeconds: totalSeconds)
    }

    /// Packs task-sized slices into the offer, keeps them running and declines the rest.
    /// Returns the number of tasks launched.
    private mutating func accept(_ allocation: Allocation) -> Int {
        let offer = allocation.resources
        var fit = Double.infinity
        if taskCPUs > 0 { fit = min(fit, offer.cpus / taskCPUs + 1e-9) }
        if taskMem > 0 { fit = min(fit, offer.mem / taskMem + 1e-9) }
        let tasks = fit.isFinite ? max(0, Int(fit)) : 0
        var rest = offer
        if tasks > 0 {
            let used = Resources([.scalar("cpus", Double(tasks) * taskCPUs), .scalar("mem", Double(tasks) * taskMem)])
            running.append(TaskGroup(framework: allocation.frameworkID, agent: allocation.agentID, resources: used))
            rest -= used
        }
        if !rest.isEmpty {
            allocator.recover(
                rest, from: allocation.frameworkID, on: allocation.agentID,
                refuseSeconds: declineRefuseSeconds, now: simulatedTime)
        }
        return tasks
    }

    /// Finishes a random share of the running task groups, returning their resources.
    private mutating func finishTasks() {
        var index = 0
        while index < running.count {
            if generator.nextUnit() < finishProbability {
                let group = running[index]
                allocator.recover(group.resources, from: group.framework, on: group.agent, now: simulatedTime)
                running.swapAt(index, running.count - 1)
                running.removeLast()
            } else {
                index += 1
            }
        }
    }
}
