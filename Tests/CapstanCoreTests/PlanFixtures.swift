import CapstanCore

/// Builders shared by the plan tests.
enum PlanFixtures {
    static func app(_ name: AppName, instances: Int = 2, env: [String: String] = [:], cpus: Double = 0.5, mem: Double = 128) -> Workload {
        Workload(kind: .app, name: name, spec: WorkloadSpec(
            command: ["/bin/sleep", "3600"], env: env, instances: instances,
            resources: ResourceRequest(cpus: cpus, memMiB: mem)))
    }

    static func job(_ name: AppName, command: String = "echo done") -> Workload {
        Workload(kind: .job, name: name, spec: WorkloadSpec(command: ["/bin/sh", "-c", command]))
    }

    /// `count` tasks of `workload` launched at `commit`, on agents `a0`, `a1`, … in turn.
    static func tasks(
        _ workload: Workload, _ count: Int, commit: String = "c0c0c0c0c0c0", phase: ObservedTask.Phase = .running,
        from first: Int = 0, agents: Int = 1
    ) -> [ObservedTask] {
        (first..<(first + count)).map { index in
            ObservedTask(
                taskID: TaskID("\(workload.name).\(commit.prefix(4)).\(index)"), app: workload.name, kind: workload.kind,
                templateLabel: workload.templateLabel, commit: commit, phase: phase, healthy: phase == .running ? true : nil,
                agentID: AgentID("a\(index % agents)"), resources: workload.spec.resources.resources)
        }
    }

    static func agent(_ id: String, cpus: Double = 4, mem: Double = 4096, ports: ClosedRange<UInt64>? = 31000...31009, attributes: [String: String] = [:]) -> AgentCapacity {
        var free: [Resource] = [.scalar("cpus", cpus), .scalar("mem", mem), .scalar("disk", 10_000)]
        if let ports { free.append(.ranges("ports", [ValueRange(begin: ports.lowerBound, end: ports.upperBound)])) }
        return AgentCapacity(agentID: AgentID(id), hostname: "\(id).example", attributes: attributes, free: Resources(free))
    }
}
