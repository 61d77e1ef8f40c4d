/// What the cluster runs: Capstan's tasks and, when known, the free resources of its agents.
/// Built from a live master or a saved `GET_STATE` (CapstanReconciler), or simulated from another
/// revision with ``converged(to:)``.
public struct ClusterSnapshot: Sendable, Hashable {
    /// Tasks that carry a `capstan.app` label, in any order (terminal ones included: a finished task is
    /// how a job is known to be done).
    public var tasks: [ObservedTask]
    /// The agents and what is free on them; nil when unknown (a simulated snapshot), in which case the
    /// plan does not check whether new instances fit.
    public var agents: [AgentCapacity]?
    /// Jobs known to have finished, by name: the template label of the run the reconciler's history records as
    /// completed. A master that restarts forgets finished tasks; the reconciler's history does not. Empty for
    /// `capstan diff`, which sees only the master.
    public var completedJobs: [AppName: String]
    /// The apps' persistent volumes on the agents (``ObservedVolume``), in any order.
    public var volumes: [ObservedVolume]

    public init(tasks: [ObservedTask] = [], agents: [AgentCapacity]? = nil, completedJobs: [AppName: String] = [:], volumes: [ObservedVolume] = []) {
        self.tasks = tasks
        self.agents = agents
        self.completedJobs = completedJobs
        self.volumes = volumes
    }

    /// The cluster as it would be once `state` is fully deployed: each app at its `instances` running
    /// tasks of its template, each job's `instances` runs finished, all at `state`'s commit. Agents are unknown.
    /// Task IDs are `<name>.<index>`; the agent ID is `converged`.
    public static func converged(to state: DesiredState) -> ClusterSnapshot {
        var tasks: [ObservedTask] = []
        for workload in state.workloads {
            let label = state.templateLabel(of: workload)
            let count = workload.instanceCount
            for index in 0..<count {
                tasks.append(ObservedTask(
                    taskID: TaskID("\(workload.name).\(index)"), app: workload.name, kind: workload.kind,
                    templateLabel: label, commit: state.commitLabel,
                    phase: workload.kind == .job ? .finished : .running, healthy: workload.kind == .job ? nil : true,
                    agentID: AgentID("converged"), resources: workload.spec.resources.resources))
            }
        }
        return ClusterSnapshot(tasks: tasks, agents: nil, volumes: convergedVolumes(state))
    }

    /// The persistent volumes `state` would have once deployed: each declared one in every slot below `instances`,
    /// on the agent `converged`.
    static func convergedVolumes(_ state: DesiredState) -> [ObservedVolume] {
        var volumes: [ObservedVolume] = []
        for workload in state.workloads {
            let count = workload.instanceCount
            for declared in VolumeSlots.declared(workload.spec) {
                for slot in 0..<count {
                    let id = AppVolumeID(app: workload.name, slot: slot, key: declared.key)
                    volumes.append(ObservedVolume(id: id, agentID: AgentID("converged"), resource: Resource(
                        name: "disk", value: .scalar(declared.sizeMiB), role: "converged",
                        volume: PersistentVolume(id: id.persistenceID, containerPath: AppVolumeID.sandboxPath(forPath: declared.path)))))
                }
            }
        }
        return volumes
    }
}
