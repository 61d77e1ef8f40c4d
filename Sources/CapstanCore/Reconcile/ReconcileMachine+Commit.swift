extension ReconcileMachine {
    /// Takes a valid commit's desired state. Its plan's entries are journalled (created, updated, scaled,
    /// deleted: exactly what `capstan diff` shows against the same cluster) and deletions start; launches
    /// follow on offers. An empty desired state is refused unless `allowEmpty`; deletions beyond the budget
    /// are held back (those apps keep running) with the reason in ``syncProblem``. Before the master's tasks
    /// are known the commit waits (``CommitOutcome/deferred``).
    public mutating func commit(_ state: DesiredState, now: ContinuousClock.Instant) -> (CommitOutcome, [ReconcileAction]) {
        if state.workloads.isEmpty && !configuration.allowEmpty {
            let message = "the manifests at \(state.commitLabel) declare no apps or jobs; refusing to delete everything (the previous commit keeps running; --allow-empty deletes everything on purpose)"
            syncProblem = message
            return (.refused(message), [.recordSync(SyncNote(commit: state.commit.hex, outcome: .failed, message: message))])
        }
        guard seeded else {
            pendingCommit = state
            return (.deferred, [])
        }
        return apply(state, now: now)
    }

    /// Takes in the framework's tasks as the master lists them (after each subscription) and the convergences
    /// the history remembers. The master's view wins: a task it no longer lists is forgotten, so its instance
    /// is launched again. A commit that was waiting is applied now.
    public mutating func seed(
        tasks seeds: [ReconciledTask], agents: [AgentID: AgentHost], converged marks: [AppName: ConvergenceMark],
        volumes found: [ObservedVolume] = [], now: ContinuousClock.Instant
    ) -> [ReconcileAction] {
        for (id, host) in agents { agentHosts[id] = host }
        // The master's view replaces what the machine remembered: a volume it recorded whose CREATE the master dropped
        // is forgotten here, so its slot does not wait for it forever.
        volumes = Dictionary(found.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var seen: [TaskID: ReconciledTask] = [:]
        for var task in seeds.sorted(by: { $0.id < $1.id }) {
            if let existing = tasks[task.id] {
                task.killRequested = existing.killRequested
                task.launchOrder = existing.launchOrder
                if task.observed.healthy == nil { task.observed.healthy = existing.observed.healthy }
                if task.isRunning { task.runningSince = existing.runningSince ?? now }
            } else {
                launchCounter += 1
                task.launchOrder = launchCounter
                if task.isRunning { task.runningSince = now }
            }
            seen[task.id] = task
        }
        tasks = seen
        for (app, mark) in marks where converged[app] == nil { converged[app] = mark }
        seeded = true
        guard let pending = pendingCommit else { return [] }
        pendingCommit = nil
        return apply(pending, now: now).1
    }

    /// After a (re-)subscription whether the master still suppresses offers is unknown (a failed-over framework
    /// may keep the suppression of its previous connection): treat them as suppressed, so the first step that
    /// needs offers sends REVIVE.
    public mutating func resubscribed() {
        suppressed = true
        declinedForLong = false
    }

    private mutating func apply(_ state: DesiredState, now: ContinuousClock.Instant) -> (CommitOutcome, [ReconcileAction]) {
        var wanted: [AppName: Workload] = [:]
        for workload in state.workloads where wanted[workload.name] == nil { wanted[workload.name] = workload }

        // Runtime memory: kept while an app's template stays, fresh for a new template or a new app.
        var memories: [AppName: AppMemory] = [:]
        for (name, workload) in wanted {
            if var memory = apps[name], memory.workload.templateLabel == workload.templateLabel {
                if memory.workload.spec.instances != workload.spec.instances {
                    memory.lastProgress = now
                    memory.progressMark = nil
                }
                memory.workload = workload
                memory.commit = state.commit(of: name)
                memory.revertedFrom = nil
                memories[name] = memory
            } else {
                memories[name] = AppMemory(workload: workload, commit: state.commit(of: name), now: now)
            }
        }
        let gone = Set(apps.keys).subtracting(wanted.keys)
        apps = memories
        planCache = nil
        appliedCommit = state.commit
        recentStates.removeAll { $0.commitLabel == state.commitLabel }
        recentStates.append(state)
        if recentStates.count > 4 { recentStates.removeFirst(recentStates.count - 4) }

        let plan = plan()
        var actions: [ReconcileAction] = []
        let deletes = plan.items.filter { $0.action == .delete }.map(\.name)
        heldDeletes = []
        var problems: [String] = []
        if let budget = configuration.maxDeletions, deletes.count > budget {
            problems.append("this sync would delete \(deletes.count) apps (\(deletes.map(\.value).joined(separator: ", "))), more than --max-deletions \(budget); none were deleted")
            heldDeletes = Set(deletes)
        }

        var names: [PlanAction: [AppName]] = [:]
        for item in plan.changes where !heldDeletes.contains(item.name) {
            guard let event = JournalEvent(item.action) else { continue }
            names[item.action, default: []].append(item.name)
            actions.append(.journal(JournalEntry(
                app: item.name, event: event, commit: state.commit.hex, spec: item.templateLabel, message: Self.describe(item))))
            if item.action == .delete {
                requestPlannedKills(item)
                converged[item.name] = nil
                actions.append(.forgetApp(item.name))
            }
        }
        // Apps that left git with nothing left running: forgotten quietly (the plan has nothing to do for them).
        for name in gone.sorted() where !deletes.contains(name) {
            converged[name] = nil
            actions.append(.forgetApp(name))
        }
        for (id, task) in tasks where !task.isLive && wanted[task.app] == nil && !heldDeletes.contains(task.app) {
            tasks[id] = nil
        }
        actions += drainKills()

        syncProblem = problems.isEmpty ? nil : problems.joined(separator: "; ")
        let created = names[.create] ?? [], updated = names[.update] ?? [], scaled = names[.scale] ?? [], deleted = names[.delete] ?? []
        actions.append(.recordSync(SyncNote(
            commit: state.commit.hex, outcome: problems.isEmpty ? .applied : .failed,
            message: syncProblem ?? "applied: \(created.count) created, \(updated.count) updated, \(scaled.count) scaled, \(deleted.count) deleted")))
        return (.applied(created: created, updated: updated, scaled: scaled, deleted: deleted), actions)
    }

    /// The history line of a plan entry.
    static func describe(_ item: PlanItem) -> String {
        let changes = item.changes.map(\.path).joined(separator: ", ")
        switch item.action {
        case .create:
            return item.kind == .job
                ? "created: \(item.newInstances) run\(item.newInstances == 1 ? "" : "s")" + (changes.isEmpty ? "" : " (\(changes))")
                : "created with \(item.desiredInstances) instances"
        case .update:
            let what = changes.isEmpty ? "a new template" : changes
            return "rolling update: \(what) (\(item.outdatedTasks.count) of \(item.currentInstances) tasks to replace)"
        case .scale:
            return item.kind == .job
                ? "\(item.newInstances) more run\(item.newInstances == 1 ? "" : "s")"
                : "scaled from \(item.currentInstances) to \(item.desiredInstances) instances"
        case .delete:
            return "pruned: removed from git (\(item.tasks.count) task\(item.tasks.count == 1 ? "" : "s") killed)"
        case .unchanged:
            return "unchanged"
        }
    }
}
