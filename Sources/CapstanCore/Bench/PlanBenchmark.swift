/// A simulated repository and cluster for `capstan bench plan`: `apps` desired apps against about as many
/// running tasks and `agents` agents with free resources, planned with ``Planner`` several times.
///
/// The mix (by app index): every 20th app runs an older template (an update with field changes read from
/// the running manifests), the next one in 20 is scaled from 1 to 2 instances, every 50th has no task
/// (a create) and as many tasks belong to apps that git no longer has (deletes); every 10th app has a
/// `hostname unique` constraint and a port, so placement checks constraints and port ranges. The rest are
/// unchanged, which is the common case a planner must be fast at.
public struct PlanBenchmark: Sendable {
    public let apps: Int
    public let agents: Int
    public let desired: DesiredState
    public let snapshot: ClusterSnapshot
    public let runningSpecs: [DesiredState]

    public static let runningCommit = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"
    public static let desiredCommit = "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef"

    public init(apps: Int = 10_000, agents: Int = 1_000) {
        self.apps = apps
        self.agents = agents
        var desiredApps: [Workload] = []
        var runningApps: [Workload] = []
        var tasks: [ObservedTask] = []
        desiredApps.reserveCapacity(apps)
        runningApps.reserveCapacity(apps)
        tasks.reserveCapacity(apps + apps / 50)
        let agentCount = max(1, agents)
        let commit = String(Self.runningCommit.prefix(12))
        func task(_ workload: Workload, _ n: Int) -> ObservedTask {
            ObservedTask(
                taskID: TaskID("\(workload.name).\(n)"), app: workload.name, kind: .app, templateLabel: workload.templateLabel,
                commit: commit, phase: .running, healthy: true, agentID: AgentID("agent-\((tasks.count) % agentCount)"),
                resources: workload.spec.resources.resources)
        }
        for index in 0..<max(0, apps) {
            let app = Self.app(index, version: "1", instances: index % 20 == 1 ? 2 : 1)
            desiredApps.append(app)
            var running = app
            if index % 20 == 0 { running = Self.app(index, version: "0", instances: 1) }
            if index % 20 == 1 { running.spec.instances = 1 }
            runningApps.append(running)
            if index % 50 != 2 { tasks.append(task(running, 0)) }
        }
        for index in 0..<max(0, apps) / 50 {
            let gone = Self.app(apps + index, version: "0", instances: 1, name: "gone-\(index)")
            runningApps.append(gone)
            tasks.append(task(gone, 0))
        }
        let free = Resources([
            .scalar("cpus", 12), .scalar("mem", 49_152), .scalar("disk", 200_000),
            .ranges("ports", [ValueRange(begin: 31000, end: 32000)]),
        ])
        let agentList = (0..<agentCount).map { i in
            AgentCapacity(agentID: AgentID("agent-\(i)"), hostname: "host-\(i)", attributes: ["rack": "r\(i % 40)", AgentAttribute.cniNetworks: NetworkSpec.builtInCNINetwork], free: free)
        }
        desired = DesiredState(commit: CommitID(hex: Self.desiredCommit), workloads: desiredApps)
        snapshot = ClusterSnapshot(tasks: tasks, agents: agentList)
        runningSpecs = [DesiredState(commit: CommitID(hex: Self.runningCommit), workloads: runningApps)]
    }

    static func app(_ index: Int, version: String, instances: Int, name: AppName? = nil) -> Workload {
        var spec = WorkloadSpec(
            image: "docker://registry.example/app-\(index % 100):\(version)", command: ["/bin/server", "--port", "8080"],
            env: ["VERSION": version, "SHARD": "\(index % 16)", "LOG": "info"], instances: instances,
            resources: ResourceRequest(cpus: 0.25, memMiB: 256, diskMiB: 64))
        if index % 10 == 3 {
            spec.constraints = [Constraint(attribute: Constraint.hostname, .unique)]
            spec.network = NetworkSpec(name: NetworkSpec.bridge, ports: [PortSpec(name: "http", container: 8080)])
        }
        return Workload(kind: .app, name: name ?? "app-\(index)", labels: ["team": "t\(index % 25)"], spec: spec)
    }

    /// Plans `iterations` times, timing each call with `clock` (monotonic seconds, any origin).
    public func run(iterations: Int, clock: () -> Double) -> PlanBenchmarkResult {
        var samples: [Double] = []
        var last = Plan(commit: desired.commit, items: [])
        for _ in 0..<max(1, iterations) {
            let start = clock()
            last = Planner.plan(desired: desired, actual: snapshot, runningSpecs: runningSpecs)
            samples.append(clock() - start)
        }
        return PlanBenchmarkResult(
            apps: apps, tasks: snapshot.tasks.count, agents: agents, planSeconds: CycleStatistics(samples: samples),
            iterations: samples.count, summary: last.summary, willNotFit: last.willNotFit.count,
            fieldChanges: last.items.reduce(0) { $0 + $1.changes.count })
    }
}

/// What one ``PlanBenchmark`` run measured.
public struct PlanBenchmarkResult: Hashable, Sendable {
    public var apps: Int
    public var tasks: Int
    public var agents: Int
    /// Time of each `Planner.plan` call.
    public var planSeconds: CycleStatistics
    public var iterations: Int
    /// The plan's ``Plan/summary`` (the same every iteration).
    public var summary: String
    public var willNotFit: Int
    public var fieldChanges: Int

    public init(
        apps: Int, tasks: Int, agents: Int, planSeconds: CycleStatistics, iterations: Int, summary: String,
        willNotFit: Int, fieldChanges: Int
    ) {
        self.apps = apps
        self.tasks = tasks
        self.agents = agents
        self.planSeconds = planSeconds
        self.iterations = iterations
        self.summary = summary
        self.willNotFit = willNotFit
        self.fieldChanges = fieldChanges
    }

    /// ```
    /// plan: 10000 apps vs 10000 running tasks, 1000 agents, 5 iterations
    /// Planner.plan: mean 412.345 ms, p50 410.000 ms, max 420.000 ms
    /// plan: 200 to create, 500 to update, 500 to scale, 200 to delete, 8600 unchanged; 1000 field changes; 0 will not fit
    /// ```
    public var text: String {
        func ms(_ seconds: Double) -> String { ScalarFormat.fixed(seconds * 1000, decimals: 3) + " ms" }
        return """
            plan: \(apps) apps vs \(tasks) running tasks, \(agents) agents, \(iterations) iterations
            Planner.plan: mean \(ms(planSeconds.mean)), p50 \(ms(planSeconds.p50)), max \(ms(planSeconds.max))
            plan: \(summary); \(fieldChanges) field changes; \(willNotFit) will not fit
            """
    }
}
