/// One task of the reconciler's framework: the ``ObservedTask`` the planner sees, plus what only the
/// reconciler remembers about it (a kill it sent, launch order, since when it runs).
public struct ReconciledTask: Sendable, Hashable {
    public var observed: ObservedTask
    /// The app has a health check: a running task counts as healthy only once a check passed.
    public var hasHealthCheck: Bool
    /// A kill was sent by the reconciler.
    public var killRequested = false
    /// Orders an app's tasks: newer ones go first on a scale-down.
    public var launchOrder: Int
    /// When it was first seen running (backoff resets after a while of health).
    public var runningSince: ContinuousClock.Instant?
    /// The Mesos state name of the latest update (`TASK_RUNNING`), for messages.
    public var stateName: String

    public init(
        observed: ObservedTask, hasHealthCheck: Bool, killRequested: Bool = false, launchOrder: Int,
        runningSince: ContinuousClock.Instant? = nil, stateName: String
    ) {
        self.observed = observed
        self.hasHealthCheck = hasHealthCheck
        self.killRequested = killRequested
        self.launchOrder = launchOrder
        self.runningSince = runningSince
        self.stateName = stateName
    }

    public var id: TaskID { observed.taskID }
    public var app: AppName { observed.app }
    public var template: String { observed.templateLabel }
    /// Pending, running or being killed: it still holds resources on its agent.
    public var isLive: Bool { observed.phase == .pending || observed.phase == .running || observed.phase == .killing }
    public var isRunning: Bool { observed.phase == .running }

    /// Running, not being killed, and passing its health check if it has one.
    public var isHealthy: Bool {
        observed.phase == .running && !killRequested && (!hasHealthCheck || observed.healthy == true)
    }

    /// The task as the planner sees it: a task the reconciler is killing is `killing`, not an instance.
    public var planned: ObservedTask {
        var task = observed
        if killRequested && task.isActive { task.phase = .killing }
        return task
    }

    var rolloutTask: RolloutTask {
        let phase: RolloutTask.Phase
        switch observed.phase {
        case _ where killRequested: phase = .killing
        case .running: phase = .running
        case .killing: phase = .killing
        default: phase = .pending
        }
        return RolloutTask(id: id.value, template: template, phase: phase, healthy: isHealthy, launchOrder: launchOrder)
    }
}

/// A status update as the machine needs it.
public struct TaskUpdate: Sendable, Hashable {
    public var taskID: TaskID
    public var agentID: AgentID?
    public var phase: ObservedTask.Phase
    /// The Mesos state name (`TASK_FAILED`).
    public var stateName: String
    /// Failed, errored or dropped: counts against restart backoff (unlike killed, lost or gone, which are replaced at once).
    public var isFailure: Bool
    public var healthy: Bool?
    public var message: String?

    public init(
        taskID: TaskID, agentID: AgentID?, phase: ObservedTask.Phase, stateName: String, isFailure: Bool,
        healthy: Bool? = nil, message: String? = nil
    ) {
        self.taskID = taskID
        self.agentID = agentID
        self.phase = phase
        self.stateName = stateName
        self.isFailure = isFailure
        self.healthy = healthy
        self.message = message
    }
}

/// Offers from one agent, as placement sees them.
public struct OfferedCapacity: Sendable, Hashable {
    public var offerID: OfferID
    /// The agent, its attributes, and the offer's resources as what is free.
    public var agent: AgentCapacity

    public init(offerID: OfferID, agent: AgentCapacity) {
        self.offerID = offerID
        self.agent = agent
    }
}
