/// One task the cluster runs (or ran) for an app or job, as the planner sees it: read from the task's
/// ``TaskLabel`` labels and its latest status. Tasks without a `capstan.app` label are not Capstan's and
/// never become an `ObservedTask`.
public struct ObservedTask: Sendable, Hashable {
    /// How far along a task is, folded from the Mesos task states.
    public enum Phase: String, Sendable, Hashable, CaseIterable {
        /// Staging or starting: launched, not yet running. Counts as an instance.
        case pending
        /// Running (healthy or not). Counts as an instance.
        case running
        /// A kill was sent; no longer counted as an instance.
        case killing
        /// Exited successfully (`TASK_FINISHED`): a job run that completed.
        case finished
        /// Any other terminal state (failed, killed, error, lost, dropped, gone) or unreachable.
        case failed

        /// Pending or running: the task is one of the app's instances.
        public var isActive: Bool { self == .pending || self == .running }
    }

    public var taskID: TaskID
    /// The `capstan.app` label: the app's or job's name.
    public var app: AppName
    /// The `capstan.kind` label (`App` when absent).
    public var kind: WorkloadKind
    /// The `capstan.spec` label: the ``Workload/templateLabel`` the task was launched with.
    public var templateLabel: String
    /// The `capstan.commit` label: the short commit its manifest was read at (may be empty).
    public var commit: String
    public var phase: Phase
    /// The latest health-check result; nil when the task has no check or none has run yet.
    public var healthy: Bool?
    public var agentID: AgentID
    /// What the task holds on its agent (scalars and `ports`, and persistent volumes).
    public var resources: Resources
    /// The `capstan.slot` label: the instance slot whose persistent volumes the task mounts; nil without volumes.
    public var slot: Int?

    public init(
        taskID: TaskID, app: AppName, kind: WorkloadKind = .app, templateLabel: String, commit: String,
        phase: Phase, healthy: Bool? = nil, agentID: AgentID, resources: Resources = Resources(), slot: Int? = nil
    ) {
        self.slot = slot
        self.taskID = taskID
        self.app = app
        self.kind = kind
        self.templateLabel = templateLabel
        self.commit = commit
        self.phase = phase
        self.healthy = healthy
        self.agentID = agentID
        self.resources = resources
    }

    /// Whether the task counts as one of its app's instances (pending or running).
    public var isActive: Bool { phase.isActive }
}
