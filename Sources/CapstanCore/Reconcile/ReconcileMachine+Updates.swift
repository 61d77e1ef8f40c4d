extension ReconcileMachine {
    /// Applies a status update: the task's phase and health, a job's finished run, restart backoff for a
    /// failure, and convergence as soon as the update that completes it arrives (so a commit that follows at
    /// once cannot hide it). A task this machine does not know changes nothing.
    public mutating func update(_ update: TaskUpdate, isTerminal: Bool, now: ContinuousClock.Instant) -> [ReconcileAction] {
        guard var task = tasks[update.taskID] else { return [] }
        task.observed.phase = update.phase
        task.stateName = update.stateName
        if let healthy = update.healthy { task.observed.healthy = healthy }
        if update.phase == .running, task.runningSince == nil { task.runningSince = now }
        if let agent = update.agentID { task.observed.agentID = agent }

        guard isTerminal else {
            tasks[update.taskID] = task
            if task.isHealthy, let memory = apps[task.app] { return noteConvergence(memory) }
            return []
        }
        let memory = apps[task.app]
        // A job's finished run of its current template is kept: it is how the plan knows the job is done.
        if update.phase == .finished, let memory, memory.isJob, task.template == memory.template {
            task.killRequested = false
            tasks[update.taskID] = task
        } else {
            tasks[update.taskID] = nil
        }
        taskEnded(task, update: update, now: now)
        return []
    }

    /// Counts a task's end against its app: failures for backoff, and the reason shown in status.
    private mutating func taskEnded(_ task: ReconciledTask, update: TaskUpdate, now: ContinuousClock.Instant) {
        guard var memory = apps[task.app] else { return }
        let describe = update.message.map { "\(update.stateName): \($0)" } ?? update.stateName
        if memory.isJob, task.template == memory.template, update.phase == .finished {
            memory.failures = 0
        } else if !task.killRequested, task.template == memory.template {
            if update.isFailure || (update.phase == .finished && !memory.isJob) {
                memory.failures += 1
                let delay = memory.workload.spec.backoff.delay(afterFailures: memory.failures)
                memory.nextLaunchAt = now + delay
                memory.lastFailure = update.isFailure
                    ? "\(describe); restart \(memory.failures) in \(delay)"
                    : "task exited (\(describe)); an App is restarted; restart \(memory.failures) in \(delay)"
            } else {
                memory.lastFailure = "\(describe) (replaced)"
            }
        }
        apps[task.app] = memory
    }

    /// Records, once per (commit, template, instances), that an app converged.
    mutating func noteConvergence(_ memory: AppMemory) -> [ReconcileAction] {
        guard !memory.isJob, memory.failedReason == nil, memory.revertedFrom == nil, decision(for: memory).converged else { return [] }
        var memory = memory
        let actions = recordConvergence(&memory)
        apps[memory.name] = memory
        return actions
    }

    /// The actions that record a convergence (once): the mark a later automatic revert goes back to, and a history row.
    mutating func recordConvergence(_ memory: inout AppMemory) -> [ReconcileAction] {
        let mark = ConvergenceMark(
            app: memory.name, commit: memory.commit.hex, template: memory.template,
            instances: memory.isJob ? nil : memory.workload.spec.instances)
        guard memory.recordedConverged != mark else { return [] }
        memory.recordedConverged = mark
        memory.placementProblem = nil
        converged[memory.name] = mark
        let message = memory.isJob
            ? "job finished: \(jobProgress(memory).finished) of \(memory.workload.spec.instances) runs succeeded"
            : "converged: \(memory.workload.spec.instances) healthy instances"
        return [
            .markConverged(mark),
            .journal(JournalEntry(app: memory.name, event: .converged, commit: memory.commit.hex, spec: memory.template, message: message)),
        ]
    }
}
