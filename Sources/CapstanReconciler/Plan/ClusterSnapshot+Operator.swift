import CapstanAPI
import CapstanCore
import Foundation

extension ClusterSnapshot {
    /// The snapshot in a master's `GET_STATE` answer: every task with a `capstan.app` label (running,
    /// pending, unreachable, completed and orphan ones; others are not Capstan's and are ignored), and every
    /// active agent with its total resources less those allocated to tasks, restricted to what `role` may use.
    public init(state: OperatorResponse.GetState, role: String = Resource.unreservedRole) throws {
        var tasks: [ObservedTask] = []
        if let list = state.getTasks {
            for task in list.pendingTasks + list.tasks + list.unreachableTasks + list.completedTasks + list.orphanTasks {
                if let observed = try ObservedTask(mesos: task) { tasks.append(observed) }
            }
        }
        // A task can be listed twice (e.g. orphan and running); the first listing wins.
        var seen: Set<TaskID> = []
        tasks = tasks.filter { seen.insert($0.taskID).inserted }
        var agents: [AgentCapacity] = []
        var volumes: [ObservedVolume] = []
        for agent in state.getAgents?.agents ?? [] {
            guard let id = agent.agentInfo.id else { continue }
            let total = try Resources(mesos: agent.totalResources)
            // An inactive agent's volumes still exist (and still pin their instances); its resources are not free.
            volumes += ObservedVolume.found(in: total, on: id, role: role)
            guard agent.active && agent.deactivated != true else { continue }
            let allocated = try Resources(mesos: agent.allocatedResources)
            agents.append(AgentCapacity(
                agentID: id, hostname: agent.agentInfo.hostname, attributes: Self.attributes(agent.agentInfo.attributes),
                free: (total - allocated).allocatable(to: role).withoutVolumes))
        }
        self.init(tasks: tasks, agents: agents, volumes: volumes)
    }

    /// Mesos attributes in the flag form constraints match against (`zone: "eu-1"`, `rack: "3"`, ranges as
    /// `[1-2]`): the one flattening used for agents in `GET_STATE` and in offers.
    public static func attributes(_ list: [MesosAttribute]) -> [String: String] {
        var attributes: [String: String] = [:]
        for attribute in list {
            if let core = Attribute(mesos: attribute) { attributes[core.name] = core.value.description }
        }
        return attributes
    }

    /// A saved `GET_STATE` answer: the whole operator response (`{"type":"GET_STATE","get_state":{…}}`,
    /// what `curl -d '{"type":"GET_STATE"}' MASTER/api/v1` prints) or just its `get_state` object.
    public init(stateJSON data: Data, role: String = Resource.unreservedRole) throws {
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        guard let object else { throw CapstanError(.invalidArgument, "a GET_STATE snapshot must be a JSON object") }
        let state: OperatorResponse.GetState
        do {
            if object["type"] != nil || object["get_state"] != nil {
                guard let inner = try MesosJSON.decode(OperatorResponse.self, from: data).getState else {
                    throw CapstanError(.invalidArgument, "the operator response has no get_state (was it a GET_STATE call?)")
                }
                state = inner
            } else {
                guard object["get_tasks"] != nil || object["get_agents"] != nil else {
                    throw CapstanError(.invalidArgument, "neither an operator response nor a get_state object (no get_tasks or get_agents)")
                }
                state = try MesosJSON.decode(OperatorResponse.GetState.self, from: data)
            }
        } catch let error as CapstanError {
            throw error
        } catch {
            throw CapstanError(.invalidArgument, "not a valid GET_STATE response", cause: error)
        }
        try self.init(state: state, role: role)
    }
}

extension ObservedTask {
    /// The task as the planner sees it, or nil when it carries no `capstan.app` label.
    public init?(mesos task: MesosTask) throws {
        let labels = task.labelValues
        guard let app = labels[TaskLabel.app], !app.isEmpty else { return nil }
        let kind = labels[TaskLabel.kind].flatMap(WorkloadKind.init(rawValue:)) ?? .app
        let latest = task.statuses.last { $0.state == task.state } ?? task.statuses.last
        self.init(
            taskID: task.taskID, app: AppName(app), kind: kind, templateLabel: labels[TaskLabel.spec] ?? "",
            commit: labels[TaskLabel.commit] ?? "", phase: Phase(task.state), healthy: latest?.healthy,
            agentID: task.agentID, resources: try Resources(mesos: task.resources), slot: labels[TaskLabel.slot].flatMap { Int($0) })
    }
}

extension MesosTask {
    /// The task's labels by key (a label without a value reads as empty; of repeated keys the last wins).
    public var labelValues: [String: String] {
        var labels: [String: String] = [:]
        for label in self.labels?.labels ?? [] { labels[label.key] = label.value ?? "" }
        return labels
    }
}

extension ObservedTask.Phase {
    /// Staging and starting are pending; running is running; killing is killing; finished is finished;
    /// every other state (failed, killed, error, lost, dropped, gone, unreachable, unknown) is failed,
    /// so the plan replaces such tasks.
    public init(_ state: TaskState) {
        switch state {
        case .taskStaging, .taskStarting: self = .pending
        case .taskRunning: self = .running
        case .taskKilling: self = .killing
        case .taskFinished: self = .finished
        case .taskFailed, .taskKilled, .taskError, .taskLost, .taskDropped, .taskUnreachable, .taskGone,
            .taskGoneByOperator, .taskUnknown:
            self = .failed
        }
    }
}
