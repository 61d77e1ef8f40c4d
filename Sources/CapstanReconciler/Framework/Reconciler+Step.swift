import CapstanAPI
import CapstanCore
import Foundation
import Logging

extension Reconciler {
    /// How many instances of an app to launch now: nil or 0 when it must wait (dependencies not ready, backoff,
    /// rollout failed, or nothing missing).
    func launchesWanted(for runtime: AppRuntime) -> Int? {
        guard runtime.failedReason == nil else { return nil }
        if let next = runtime.nextLaunchAt, next > now() { return nil }
        guard dependenciesReady(runtime) == nil else { return nil }
        let live = liveTasks(of: runtime.name)
        if runtime.isJob {
            let running = live.filter { $0.template == runtime.template && !$0.killRequested }.count
            return max(0, runtime.workload.spec.instances - runtime.completions - running)
        }
        return decision(for: runtime, live: live).launch
    }

    /// The rollout decision for an app's live tasks. It counts as converged only once no task of the app is still
    /// being killed.
    func decision(for runtime: AppRuntime, live: [TrackedTask]) -> RolloutDecision {
        let spec = runtime.workload.spec
        var decision = RolloutDecision.decide(
            instances: spec.instances, template: runtime.template,
            minHealthy: spec.update.minHealthy.resolved(instances: spec.instances),
            maxSurge: spec.update.maxSurge.resolved(instances: spec.instances),
            tasks: live.map(\.rolloutTask))
        if decision.converged, live.contains(where: { $0.killRequested || $0.state == .taskKilling }) { decision.converged = false }
        return decision
    }

    /// Nil when every app this one depends on is ready (apps Synced, jobs finished), else which one it waits for.
    func dependenciesReady(_ runtime: AppRuntime) -> String? {
        for dependency in runtime.workload.spec.dependsOn.sorted() {
            guard let other = apps[dependency] else { return "waiting for \(dependency), which is not deployed" }
            if other.isJob {
                if other.completions < other.workload.spec.instances { return "waiting for job \(dependency) to finish" }
            } else if !decision(for: other, live: liveTasks(of: dependency)).converged {
                return "waiting for \(dependency) to be healthy"
            }
        }
        return nil
    }

    /// Re-evaluates every app: kills that rollouts, scale-downs and prunes allow, progress deadlines, reverts,
    /// convergence records; then answers the calls to send (kills, and REVIVE/SUPPRESS for offers).
    func tick() async -> [SchedulerCall] {
        guard seeded else { return [] }
        let now = now()
        for name in apps.keys.sorted() {
            guard var runtime = apps[name] else { continue }
            let live = liveTasks(of: name)
            if runtime.isJob {
                await stepJob(&runtime, live: live)
                apps[name] = runtime
                continue
            }
            let decision = decision(for: runtime, live: live)
            requestRolloutKills(runtime, decision)

            // Backoff resets once a task of the current template has run healthy for a while.
            if runtime.failures > 0, live.contains(where: {
                $0.template == runtime.template && $0.isHealthy && ($0.runningSince.map { now - $0 > .seconds(5) } ?? false)
            }) {
                runtime.failures = 0
                runtime.nextLaunchAt = nil
            }

            if decision.converged {
                runtime.failedReason = nil
                runtime.lastProgress = now
                await recordConvergence(&runtime)
            } else if runtime.failedReason == nil {
                let healthyCurrent = live.filter { $0.template == runtime.template && $0.isHealthy }.count
                let old = live.filter { $0.template != runtime.template && !$0.killRequested }.count
                if let mark = runtime.progressMark, healthyCurrent > mark.healthy || old < mark.old {
                    runtime.lastProgress = now
                }
                runtime.progressMark = (healthyCurrent, old)
                let deadline = runtime.workload.spec.update.progressDeadline
                if now - runtime.lastProgress > deadline {
                    await deadlineMissed(&runtime, live: live)
                }
            }
            apps[name] = runtime
        }

        var calls = drainKills()

        let wantOffers = apps.values.contains { (launchesWanted(for: $0) ?? 0) > 0 }
        if wantOffers && (suppressed || declinedForLong) {
            suppressed = false
            declinedForLong = false
            calls.append(SchedulerCall(type: .revive, revive: .init()))
        } else if !wantOffers && !suppressed && apps.values.allSatisfy({ $0.nextLaunchAt == nil || $0.nextLaunchAt! <= now }) {
            suppressed = true
            calls.append(SchedulerCall(type: .suppress, suppress: .init()))
        }
        return calls
    }

    private func stepJob(_ runtime: inout AppRuntime, live: [TrackedTask]) async {
        // Tasks of an older template of a job are stopped: a new spec runs afresh.
        for task in live where task.template != runtime.template { requestKill(task.id) }
        if runtime.completions >= runtime.workload.spec.instances {
            let key = "\(runtime.commit)/\(runtime.template)/done"
            if runtime.recordedConverged != key {
                runtime.recordedConverged = key
                try? await store.setConverged(app: runtime.name, commit: String(runtime.commit.prefix(12)), specLabel: runtime.template)
                await journal(runtime.name, .converged, commit: runtime.commit, spec: runtime.template,
                              "job finished: \(runtime.completions) of \(runtime.workload.spec.instances) tasks succeeded")
            }
        }
    }

    /// A rollout made no progress within its deadline: revert to the last converged commit when asked to and when
    /// there is one, else stop it — kill the new template's tasks that never became healthy and keep what ran before.
    private func deadlineMissed(_ runtime: inout AppRuntime, live: [TrackedTask]) async {
        let deadline = runtime.workload.spec.update.progressDeadline
        let healthy = live.filter { $0.template == runtime.template && $0.isHealthy }.count
        var reason = "rollout of \(runtime.commit.prefix(12)) made no progress for \(deadline) (\(healthy)/\(runtime.workload.spec.instances) healthy)"
        if let detail = runtime.lastFailure ?? runtime.placementProblem { reason += "; last: \(detail)" }

        if runtime.workload.spec.update.autoRevert, let reader = manifestAtCommit,
            let converged = try? await store.lastConverged(app: runtime.name), converged.specLabel != runtime.template,
            let previous = await reader(runtime.name, converged.commit)
        {
            let from = runtime.commit
            var reverted = AppRuntime(workload: previous, commit: converged.commit, now: now())
            reverted.revertedFrom = from
            reverted.lastFailure = reason
            runtime = reverted
            await journal(runtime.name, .reverted, commit: converged.commit, spec: previous.templateLabel,
                          "\(reason); reverted to \(converged.commit)")
            logger.warning("Rollout missed its deadline; reverting", metadata: ["app": "\(runtime.name)", "to": "\(converged.commit)"])
            return
        }
        runtime.failedReason = reason
        for task in live where task.template == runtime.template && !task.isHealthy { requestKill(task.id) }
        await journal(runtime.name, .failed, commit: runtime.commit, spec: runtime.template, reason)
        logger.error("Rollout failed", metadata: ["app": "\(runtime.name)", "reason": "\(reason)"])
    }
}

extension Reconciler {
    /// Marks the tasks a rollout step may kill. A failed rollout holds still: what runs keeps running until git
    /// changes the app.
    func requestRolloutKills(_ runtime: AppRuntime, _ decision: RolloutDecision) {
        guard runtime.failedReason == nil, !runtime.isJob else { return }
        for id in decision.kill { requestKill(TaskID(id)) }
    }

    /// The KILL calls for every kill decided since the last send, with the app's kill grace period.
    func drainKills() -> [SchedulerCall] {
        defer { pendingKills = [] }
        return pendingKills.compactMap { id -> SchedulerCall? in
            guard let task = tasks[id] else { return nil }
            let grace = apps[task.app].map { TaskInfoBuilder.nanoseconds($0.workload.spec.killGracePeriod) }
            return SchedulerCall(
                type: .kill,
                kill: .init(taskID: id, agentID: task.agentID, killPolicy: grace.map { KillPolicy(gracePeriod: DurationInfo(nanoseconds: $0)) }))
        }
    }
}

extension Reconciler {
    /// Records, once per (commit, template, instances), that an app converged: the commit a later automatic revert
    /// goes back to, and a `converged` history row.
    func recordConvergence(_ runtime: inout AppRuntime) async {
        let key = "\(runtime.commit)/\(runtime.template)/\(runtime.workload.spec.instances)"
        guard runtime.recordedConverged != key else { return }
        runtime.recordedConverged = key
        runtime.placementProblem = nil
        try? await store.setConverged(app: runtime.name, commit: String(runtime.commit.prefix(12)), specLabel: runtime.template)
        await journal(runtime.name, .converged, commit: runtime.commit, spec: runtime.template,
                      "converged: \(runtime.workload.spec.instances) healthy instances")
    }

    /// Records convergence as soon as the status update that completes it arrives, not only at the next tick, so a
    /// commit that follows at once cannot hide it.
    func noteConvergence(of name: String) async {
        guard var runtime = apps[name], !runtime.isJob, runtime.failedReason == nil, runtime.revertedFrom == nil,
            decision(for: runtime, live: liveTasks(of: name)).converged
        else { return }
        await recordConvergence(&runtime)
        if apps[name]?.commit == runtime.commit { apps[name]?.recordedConverged = runtime.recordedConverged }
    }
}
