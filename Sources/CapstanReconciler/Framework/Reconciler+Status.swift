import CapstanAPI
import CapstanCore
import Foundation

extension Reconciler {
    /// Every desired app (and every app still running that git no longer has) against what runs.
    public func appStatuses() -> [AppStatus] {
        var statuses: [AppStatus] = []
        let apps = machine.apps
        for name in apps.keys.sorted() {
            guard let memory = apps[name] else { continue }
            statuses.append(status(of: memory))
        }
        let orphans = Set(machine.tasks.values.filter { $0.isLive && apps[$0.app] == nil }.map(\.app))
        for name in orphans.sorted() {
            let live = machine.liveTasks(of: name)
            statuses.append(AppStatus(
                name: name.value, kind: WorkloadKind.app.rawValue, desiredCommit: nil, runningCommit: majorityCommit(live), desiredInstances: 0,
                runningInstances: live.filter(\.isRunning).count, healthyInstances: live.filter(\.isHealthy).count,
                phase: .degraded, reason: syncError ?? "not in git; waiting to be pruned"))
        }
        for index in statuses.indices {
            let name = AppName(statuses[index].name)
            statuses[index].pinned = pins[statuses[index].name].map { String($0.commit.prefix(12)) }
            if machine.suspended.contains(name) {
                statuses[index].suspended = true
                let detail = statuses[index].reason.map { ": \($0)" } ?? ""
                statuses[index].reason = "suspended (capstan resume \(name) reconciles it again)\(detail)"
            }
        }
        return statuses.sorted { $0.name < $1.name }
    }

    /// The whole status document for `GET /api/v1/status`. While the master cannot be reached every app is Unknown,
    /// with since when and why, instead of the phase it last had.
    public func status(repo: String, revision: String) -> ReconcilerStatus {
        var apps = appStatuses()
        if let lost = masterLost {
            let since = TextTable.timestamp(lost.since)
            for index in apps.indices {
                apps[index].phase = .unknown
                apps[index].reason = "cannot reach the master at \(lost.master) since \(since): \(lost.error)"
            }
        }
        return ReconcilerStatus(
            formatVersion: 1, repo: repo, revision: revision, headCommit: headCommit?.short,
            appliedCommit: machine.appliedCommit?.short, lastSync: lastSync, error: syncError,
            diagnostics: diagnostics, apps: apps, volumes: volumeStatuses())
    }

    /// The subscription to the master failed (or has not succeeded yet); the first failure's time is kept.
    /// `master`: the address it tried (the leader when one was found), or the whole `--master` when none was.
    public func lostMaster(_ error: String, master: String, at date: Date = Date()) {
        masterLost = (masterLost?.since ?? date, master, error)
    }

    /// Subscribed and seeded again.
    public func reachedMaster() {
        masterLost = nil
    }

    /// The apps' persistent volumes as the plan sees them; nil when there are none.
    public func volumeStatuses() -> [VolumeStatus]? {
        let planned = machine.plan().volumes
        guard !planned.isEmpty else { return nil }
        return planned.map { volume in
            VolumeStatus(
                id: volume.id.persistenceID, app: volume.id.app.value, slot: volume.id.slot, path: volume.path, sizeMiB: volume.sizeMiB,
                agent: volume.agentID?.value, action: volume.action.rawValue, usedBy: volume.usedBy?.value, note: volume.note)
        }
    }

    func status(of memory: AppMemory) -> AppStatus {
        let live = machine.liveTasks(of: memory.name)
        let current = live.filter { $0.template == memory.template && !$0.killRequested }
        let running = live.filter { $0.isRunning && !$0.killRequested }.count
        let healthy = current.filter(\.isHealthy).count
        let desired = memory.workload.spec.instances
        let job = memory.isJob ? machine.jobProgress(memory) : nil
        var status = AppStatus(
            name: memory.name.value, kind: memory.workload.kind.rawValue, desiredCommit: memory.commit.short,
            runningCommit: majorityCommit(live), desiredInstances: desired, runningInstances: running,
            healthyInstances: job.map { $0.done ? max($0.finished, desired) : $0.finished } ?? healthy, phase: .progressing)

        if let failed = memory.failedReason {
            status.phase = .failed
            status.reason = failed
            return status
        }
        if let job {
            if job.done {
                status.phase = .synced
            } else {
                status.reason = machine.dependencyWait(memory) ?? memory.lastFailure
                    ?? "job running: \(job.finished)/\(desired) finished"
                status.phase = memory.failures > 0 ? .degraded : .progressing
            }
            return status
        }
        let decision = machine.decision(for: memory)
        if decision.converged {
            status.phase = .synced
            if let from = memory.revertedFrom {
                status.phase = .failed
                status.reason = "reverted to \(memory.commit.short) after the rollout of \(from.short) failed: \(memory.lastFailure ?? "deadline missed")"
            }
            return status
        }
        let old = live.filter { $0.template != memory.template && !$0.killRequested }.count
        if let waiting = machine.dependencyWait(memory) {
            status.reason = waiting
        } else if let stuck = decision.stuck {
            status.phase = .degraded
            status.reason = stuck
        } else if memory.failures > 0, let failure = memory.lastFailure {
            status.phase = .degraded
            status.reason = failure
        } else if let problem = memory.placementProblem {
            status.phase = .degraded
            status.reason = "will not fit: \(problem)"
        } else if old > 0 {
            status.reason = "rolling update: \(healthy)/\(desired) new instances healthy, \(old) old still running"
        } else if let mark = memory.recordedConverged, mark.commit == memory.commit.short, mark.template == memory.template,
            current.count >= desired
        {
            status.phase = .degraded
            status.reason = "\(healthy)/\(desired) instances healthy"
        } else {
            status.reason = "\(healthy)/\(desired) instances healthy; \(max(0, desired - current.count)) to launch"
            if let failure = memory.lastFailure { status.reason! += " (last: \(failure))" }
        }
        return status
    }

    func majorityCommit(_ live: [ReconciledTask]) -> String? {
        let counts = Dictionary(live.filter(\.isRunning).map { ($0.observed.commit, 1) }, uniquingKeysWith: +)
        return counts.max { $0.value == $1.value ? $0.key > $1.key : $0.value < $1.value }?.key
    }
}
