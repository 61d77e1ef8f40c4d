extension ReconcileMachine {
    /// Re-evaluates every app at `now`: the kills the plan and rollouts allow, backoff resets, convergence
    /// records, progress deadlines (and automatic reverts), then REVIVE or SUPPRESS for offers.
    public mutating func tick(now: ContinuousClock.Instant) -> [ReconcileAction] {
        guard seeded else { return [] }
        var actions: [ReconcileAction] = []
        for item in plan().items { requestPlannedKills(item) }
        for name in apps.keys.sorted() {
            guard var memory = apps[name] else { continue }
            if suspended.contains(name) {
                // Observed, never changed: no deadline runs while suspended (it starts afresh on resume).
                memory.lastProgress = now
                memory.progressMark = nil
                apps[name] = memory
                continue
            }
            if memory.isJob {
                if jobProgress(memory).done { actions += recordConvergence(&memory) }
                apps[name] = memory
                continue
            }
            let live = liveTasks(of: name)
            let decision = decision(for: memory)

            // Backoff resets once a task of the current template has run healthy for a while.
            if memory.failures > 0, live.contains(where: {
                $0.template == memory.template && $0.isHealthy
                    && ($0.runningSince.map { now - $0 > configuration.backoffResetAfter } ?? false)
            }) {
                memory.failures = 0
                memory.nextLaunchAt = nil
            }

            if decision.converged {
                memory.failedReason = nil
                memory.lastProgress = now
                if memory.revertedFrom == nil { actions += recordConvergence(&memory) }
            } else if memory.failedReason == nil && memory.revertPending == nil {
                let healthyCurrent = live.filter { $0.template == memory.template && $0.isHealthy }.count
                let old = live.filter { $0.template != memory.template && !$0.killRequested }.count
                if let mark = memory.progressMark, healthyCurrent > mark.healthy || old < mark.old {
                    memory.lastProgress = now
                }
                memory.progressMark = ProgressMark(healthy: healthyCurrent, old: old)
                if now - memory.lastProgress > memory.workload.spec.update.progressDeadline {
                    actions += deadlineMissed(&memory, healthy: healthyCurrent)
                }
            }
            apps[name] = memory
        }
        actions += drainKills()

        let wantOffers = wantsOffers(now: now)
        if wantOffers && (suppressed || declinedForLong) {
            suppressed = false
            declinedForLong = false
            actions.append(.revive)
        } else if !wantOffers && !suppressed && apps.values.allSatisfy({ $0.nextLaunchAt.map { $0 <= now } ?? true }) {
            suppressed = true
            actions.append(.suppress)
        }
        return actions
    }

    /// A rollout made no progress within its deadline: ask for the manifest it last converged at when it may
    /// revert and there is one, else stop it — kill the new template's tasks that never became healthy and keep
    /// what ran before.
    private mutating func deadlineMissed(_ memory: inout AppMemory, healthy: Int) -> [ReconcileAction] {
        let deadline = memory.workload.spec.update.progressDeadline
        var reason = "rollout of \(memory.commit.short) made no progress for \(deadline) (\(healthy)/\(memory.workload.spec.instances) healthy)"
        if let detail = memory.lastFailure ?? memory.placementProblem { reason += "; last: \(detail)" }
        if memory.workload.spec.update.autoRevert, let mark = converged[memory.name], mark.template != memory.template {
            memory.revertPending = reason
            return [.readManifest(app: memory.name, commit: CommitID(hex: mark.commit))]
        }
        return fail(&memory, reason)
    }

    private mutating func fail(_ memory: inout AppMemory, _ reason: String) -> [ReconcileAction] {
        memory.failedReason = reason
        for task in liveTasks(of: memory.name) where task.template == memory.template && !task.isHealthy { requestKill(task.id) }
        return [.journal(JournalEntry(app: memory.name, event: .failed, commit: memory.commit.hex, spec: memory.template, message: reason))]
    }

    /// The manifest an automatic revert asked for (``ReconcileAction/readManifest(app:commit:)``): nil when it
    /// could not be read, which fails the rollout instead.
    public mutating func manifestRead(app: AppName, commit: CommitID, workload: Workload?, now: ContinuousClock.Instant) -> [ReconcileAction] {
        guard var memory = apps[app], let reason = memory.revertPending else { return [] }
        memory.revertPending = nil
        guard let previous = workload, previous.name == app else {
            var actions = fail(&memory, reason + "; the manifest at \(commit.short) to revert to could not be read")
            apps[app] = memory
            actions += drainKills()
            return actions
        }
        var reverted = AppMemory(workload: previous, commit: commit, now: now)
        reverted.revertedFrom = memory.commit
        reverted.lastFailure = reason
        apps[app] = reverted
        planCache = nil
        return [.journal(JournalEntry(
            app: app, event: .reverted, commit: commit.hex, spec: previous.templateLabel, message: "\(reason); reverted to \(commit)"))]
    }
}
