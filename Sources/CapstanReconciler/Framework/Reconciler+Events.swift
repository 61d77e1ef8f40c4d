import CapstanAPI
import CapstanCore
import Foundation
import Logging

extension Reconciler {
    /// Takes in the framework's tasks as the master knows them (operator GET_STATE), after (re-)subscribing,
    /// with the convergences the history remembers. A restarted reconciler resumes from these: it neither
    /// launches duplicates nor loses tasks, and a job whose run finished is not run again.
    func seed(state: OperatorResponse.GetState, frameworkID: FrameworkID) async {
        var agents: [AgentID: AgentHost] = [:]
        var volumes: [ObservedVolume] = []
        for agent in state.getAgents?.agents ?? [] {
            if let id = agent.agentInfo.id {
                agents[id] = AgentHost(hostname: agent.agentInfo.hostname, attributes: ClusterSnapshot.attributes(agent.agentInfo.attributes))
                if let total = try? Resources(mesos: agent.totalResources) {
                    volumes += ObservedVolume.found(in: total, on: id, role: configuration.role)
                }
            }
        }
        let list = state.getTasks
        let all = (list?.pendingTasks ?? []) + (list?.tasks ?? []) + (list?.unreachableTasks ?? []) + (list?.completedTasks ?? [])
        var seeds: [ReconciledTask] = []
        var seen = Set<TaskID>()
        for task in all where task.frameworkID == frameworkID && seen.insert(task.taskID).inserted {
            // Of the finished tasks, only jobs' completed runs matter (they say the job is done).
            if task.state.isTerminal && task.state != .taskFinished { continue }
            guard let observed = try? ObservedTask(mesos: task) else { continue }
            if task.state == .taskFinished && observed.kind != .job { continue }
            seeds.append(ReconciledTask(observed: observed, hasHealthCheck: task.healthCheck != nil, launchOrder: 0, stateName: task.state.rawValue))
        }
        var marks: [AppName: ConvergenceMark] = [:]
        for (app, done) in (try? await store.convergedApps()) ?? [:] {
            marks[AppName(app)] = ConvergenceMark(app: AppName(app), commit: done.commit, template: done.specLabel)
        }
        queuedCalls += await perform(machine.seed(tasks: seeds, agents: agents, converged: marks, volumes: volumes, now: now()))
        logger.info("Read the framework's tasks from the master", metadata: ["tasks": "\(seeds.count)"])
    }

    /// After a (re-)subscription the master forgets suppression: offers flow again.
    func resubscribed() {
        machine.resubscribed()
    }

    /// Places what the apps need on these offers; answers the kills a rollout allows, one ACCEPT per agent used
    /// and one DECLINE for the rest.
    func offers(_ offers: [Offer]) async -> [SchedulerCall] {
        var offered: [OfferedCapacity] = []
        var unreadable: [OfferID] = []
        for offer in offers {
            guard let resources = try? Resources(mesos: offer.resources) else {
                unreadable.append(offer.id)
                continue
            }
            offered.append(OfferedCapacity(offerID: offer.id, agent: AgentCapacity(
                agentID: offer.agentID, hostname: offer.hostname, attributes: ClusterSnapshot.attributes(offer.attributes),
                free: resources)))
        }
        var calls = await perform(machine.offers(offered, now: now()))
        if !unreadable.isEmpty {
            calls.append(SchedulerCall(type: .decline, decline: .init(offerIDs: unreadable, filters: Filters(refuseSeconds: configuration.declineSeconds))))
        }
        return withQueued(calls)
    }

    /// Applies a status update. Returns the calls it leads to (the acknowledgement first).
    func update(_ status: TaskStatus) async -> [SchedulerCall] {
        var calls: [SchedulerCall] = []
        if let uuid = status.uuid, let agent = status.agentID {
            calls.append(SchedulerCall(type: .acknowledge, acknowledge: .init(agentID: agent, taskID: status.taskID, uuid: uuid)))
        }
        let failure: Set<TaskState> = [.taskFailed, .taskError, .taskDropped]
        let update = TaskUpdate(
            taskID: status.taskID, agentID: status.agentID, phase: ObservedTask.Phase(status.state), stateName: status.state.rawValue,
            isFailure: failure.contains(status.state), healthy: status.healthy, message: status.message)
        if status.state.isTerminal, let task = machine.tasks[status.taskID], !task.killRequested, failure.contains(status.state) || status.state == .taskFinished {
            logger.info("Task ended", metadata: ["app": "\(task.app)", "task": "\(status.taskID.value)", "state": "\(status.state.rawValue)"])
        }
        calls += await perform(machine.update(update, isTerminal: status.state.isTerminal, now: now()))
        return calls
    }

    /// Re-evaluates every app (rollouts, deadlines, convergence) and answers the calls to send: kills, and
    /// REVIVE/SUPPRESS for offers.
    func tick() async -> [SchedulerCall] {
        withQueued(await perform(machine.tick(now: now())))
    }
}
