import CapstanAPI
import CapstanCore
import Foundation
import Logging

extension Reconciler {
    /// Takes in the framework's tasks as the master knows them (operator GET_STATE), after (re-)subscribing.
    /// A restarted reconciler resumes from these: it neither launches duplicates nor loses tasks.
    func seed(state: OperatorResponse.GetState, frameworkID: FrameworkID) {
        for agent in state.getAgents?.agents ?? [] {
            let info = agent.agentInfo
            var attributes: [String: String] = [:]
            for attribute in info.attributes {
                if let text = attribute.text?.value { attributes[attribute.name] = text }
                else if let scalar = attribute.scalar?.value { attributes[attribute.name] = CanonicalValue.formatNumber(scalar) }
            }
            if let id = info.id { agentHosts[id] = AgentHost(hostname: info.hostname, attributes: attributes) }
        }
        let all = (state.getTasks?.pendingTasks ?? []) + (state.getTasks?.tasks ?? []) + (state.getTasks?.unreachableTasks ?? [])
        var seen = Set<TaskID>()
        for task in all where task.frameworkID == frameworkID && !task.state.isTerminal {
            let labels = Dictionary((task.labels?.labels ?? []).map { ($0.key, $0.value ?? "") }, uniquingKeysWith: { a, _ in a })
            guard let app = labels[TaskLabel.app] else { continue }
            seen.insert(task.taskID)
            launchCounter += 1
            let host = agentHosts[task.agentID]
            let existing = tasks[task.taskID]
            tasks[task.taskID] = TrackedTask(
                id: task.taskID, agentID: task.agentID, app: app, template: labels[TaskLabel.spec] ?? "",
                commit: labels[TaskLabel.commit] ?? "", state: task.state,
                healthy: task.statuses.last(where: { $0.healthy != nil })?.healthy ?? existing?.healthy,
                hasHealthCheck: task.healthCheck != nil, killRequested: existing?.killRequested ?? false,
                launchOrder: launchCounter, hostname: host?.hostname ?? "", attributes: host?.attributes ?? [:],
                runningSince: task.state == .taskRunning ? (existing?.runningSince ?? now()) : nil)
        }
        // The master's view wins: a task it no longer lists (lost in flight, or killed with a framework the master
        // removed) is forgotten, so its instance is launched again.
        for (id, task) in tasks where !seen.contains(id) {
            logger.info("Forgetting a task the master no longer has", metadata: ["task": "\(id.value)", "app": "\(task.app)"])
            tasks[id] = nil
        }
        seeded = true
        logger.info("Read the framework's tasks from the master", metadata: ["tasks": "\(seen.count)"])
    }

    /// Places what the apps need on these offers; answers one ACCEPT per offer used and one DECLINE for the rest.
    func offers(_ offers: [Offer]) -> [SchedulerCall] {
        var slots: [OfferSlot] = []
        for offer in offers {
            guard let slot = try? OfferSlot(offer) else { continue }
            agentHosts[offer.agentID] = AgentHost(hostname: offer.hostname, attributes: slot.attributes)
            slots.append(slot)
        }
        if seeded {
            for name in launchOrder() {
                guard var runtime = apps[name] else { continue }
                // Kill first what this step replaces, so launches never take the app above its surge ceiling.
                requestRolloutKills(runtime, decision(for: runtime, live: liveTasks(of: name)))
                guard let wanted = launchesWanted(for: runtime), wanted > 0 else { continue }
                let placed = place(&runtime, count: wanted, on: &slots)
                if placed < wanted, runtime.placementProblem == nil {
                    runtime.placementProblem = "\(wanted - placed) of \(wanted) instances found no offer with \(InstanceDemand(runtime.workload.spec).description)"
                } else if placed == wanted {
                    runtime.placementProblem = nil
                }
                apps[name] = runtime
            }
        }
        var calls = drainKills()
        var declined: [OfferID] = []
        for slot in slots {
            if slot.launches.isEmpty {
                declined.append(slot.offer.id)
            } else {
                calls.append(SchedulerCall(
                    type: .accept,
                    accept: .init(
                        offerIDs: [slot.offer.id],
                        operations: [Offer.Operation(type: .launch, launch: .init(taskInfos: slot.launches))],
                        filters: Filters(refuseSeconds: 0))))
            }
        }
        if !declined.isEmpty {
            let busy = seeded && apps.values.contains { (launchesWanted(for: $0) ?? 0) > 0 }
            if !busy { declinedForLong = true }
            calls.append(SchedulerCall(
                type: .decline,
                decline: .init(offerIDs: declined, filters: Filters(refuseSeconds: busy ? 1 : configuration.declineSeconds))))
        }
        return calls
    }

    /// Apps in an order that launches dependencies first (names break ties).
    func launchOrder() -> [String] {
        var order: [String] = []
        var visiting = Set<String>()
        func visit(_ name: String) {
            guard !order.contains(name), !visiting.contains(name), let runtime = apps[name] else { return }
            visiting.insert(name)
            for dependency in runtime.workload.spec.dependsOn.sorted() { visit(dependency) }
            order.append(name)
        }
        for name in apps.keys.sorted() { visit(name) }
        return order
    }

    /// Places up to `count` instances of an app on the offers, honouring its constraints against the values its
    /// live tasks already use. Returns how many were placed.
    func place(_ runtime: inout AppRuntime, count: Int, on slots: inout [OfferSlot]) -> Int {
        let workload = runtime.workload
        let demand = InstanceDemand(workload.spec)
        let matcher = ConstraintMatcher(workload.spec.constraints)
        var used = ConstraintUsage()
        for task in liveTasks(of: workload.name) where !task.killRequested {
            let host = agentHosts[task.agentID]
            matcher.record(hostname: host?.hostname ?? task.hostname, attributes: host?.attributes ?? task.attributes, in: &used)
        }
        let builder = TaskInfoBuilder(workload: workload, commit: runtime.commit)
        var placed = 0
        for i in slots.indices where placed < count {
            while placed < count {
                let slot = slots[i]
                guard matcher.matches(hostname: slot.offer.hostname, attributes: slot.attributes, used: used),
                    let ports = slot.portsFor(demand)
                else { break }
                let info = builder.taskInfo(agent: slot.offer.agentID, ports: ports)
                slots[i].take(demand, ports: ports, task: info)
                matcher.record(hostname: slot.offer.hostname, attributes: slot.attributes, in: &used)
                launchCounter += 1
                tasks[info.taskID] = TrackedTask(
                    id: info.taskID, agentID: slot.offer.agentID, app: workload.name, template: workload.templateLabel,
                    commit: String(runtime.commit.prefix(12)), state: .taskStaging, healthy: nil,
                    hasHealthCheck: workload.spec.health != nil, launchOrder: launchCounter,
                    hostname: slot.offer.hostname, attributes: slot.attributes)
                placed += 1
            }
        }
        if placed > 0 {
            logger.info("Launching", metadata: ["app": "\(workload.name)", "instances": "\(placed)", "commit": "\(runtime.commit.prefix(12))"])
        }
        return placed
    }

    /// Applies a status update. Returns the calls it leads to (the acknowledgement first).
    func update(_ status: TaskStatus) async -> [SchedulerCall] {
        var calls: [SchedulerCall] = []
        if let uuid = status.uuid, let agent = status.agentID {
            calls.append(SchedulerCall(type: .acknowledge, acknowledge: .init(agentID: agent, taskID: status.taskID, uuid: uuid)))
        }
        guard var task = tasks[status.taskID] else {
            // A task this reconciler does not know (e.g. launched before a restart and already gone): nothing to do.
            return calls
        }
        let previous = task.state
        task.state = status.state
        if let healthy = status.healthy { task.healthy = healthy }
        if status.state == .taskRunning, task.runningSince == nil { task.runningSince = now() }
        if let agent = status.agentID { task.agentID = agent }

        if status.state.isTerminal {
            tasks[status.taskID] = nil
            await taskEnded(task, status: status, previous: previous)
        } else {
            tasks[status.taskID] = task
            if task.isHealthy { await noteConvergence(of: task.app) }
        }
        return calls
    }

    /// Counts a task's end against its app: job completions, failures for backoff, and the reason shown in status.
    private func taskEnded(_ task: TrackedTask, status: TaskStatus, previous: TaskState) async {
        guard var runtime = apps[task.app] else { return }
        let describe = status.message.map { "\(status.state.rawValue): \($0)" } ?? status.state.rawValue
        if runtime.isJob, task.template == runtime.template, status.state == .taskFinished {
            runtime.completions += 1
            runtime.failures = 0
        } else if !task.killRequested, task.template == runtime.template {
            switch status.state {
            case .taskFailed, .taskError, .taskDropped:
                runtime.failures += 1
                let delay = runtime.workload.spec.backoff.delay(afterFailures: runtime.failures)
                runtime.nextLaunchAt = now() + delay
                runtime.lastFailure = "\(describe); restart \(runtime.failures) in \(delay)"
                logger.warning("Task failed", metadata: ["app": "\(task.app)", "task": "\(task.id.value)", "state": "\(status.state.rawValue)", "backoff": "\(delay)"])
            case .taskFinished where !runtime.isJob:
                runtime.failures += 1
                let delay = runtime.workload.spec.backoff.delay(afterFailures: runtime.failures)
                runtime.nextLaunchAt = now() + delay
                runtime.lastFailure = "task exited (\(describe)); an App is restarted; restart \(runtime.failures) in \(delay)"
            default:
                runtime.lastFailure = "\(describe) (replaced)"
                logger.info("Task gone; replacing it", metadata: ["app": "\(task.app)", "task": "\(task.id.value)", "state": "\(status.state.rawValue)"])
            }
        }
        apps[task.app] = runtime
    }

    /// Marks a task as being killed and queues the KILL call for the next send.
    func requestKill(_ id: TaskID) {
        guard var task = tasks[id], !task.killRequested else { return }
        task.killRequested = true
        tasks[id] = task
        pendingKills.append(id)
    }
}

extension Reconciler {
    /// After a (re-)subscription the master forgets suppression: offers flow again.
    func resubscribed() {
        suppressed = false
        declinedForLong = false
    }
}
