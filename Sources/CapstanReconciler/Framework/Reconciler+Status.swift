import CapstanAPI
import CapstanCore
import Foundation

extension Reconciler {
    /// Every desired app (and every app still running that git no longer has) against what runs.
    public func appStatuses() -> [AppStatus] {
        var statuses: [AppStatus] = []
        for name in apps.keys.sorted() {
            guard let runtime = apps[name] else { continue }
            statuses.append(status(of: runtime))
        }
        let orphans = Set(tasks.values.filter { $0.isLive && apps[$0.app] == nil }.map(\.app))
        for name in orphans.sorted() {
            let live = liveTasks(of: name)
            statuses.append(AppStatus(
                name: name, kind: "App", desiredCommit: nil, runningCommit: majorityCommit(live), desiredInstances: 0,
                runningInstances: live.filter { $0.state == .taskRunning }.count, healthyInstances: live.filter(\.isHealthy).count,
                phase: .degraded, reason: syncError ?? "not in git; waiting to be pruned"))
        }
        return statuses.sorted { $0.name < $1.name }
    }

    /// The whole status document for `GET /api/v1/status`.
    public func status(repo: String, revision: String) -> ReconcilerStatus {
        ReconcilerStatus(
            formatVersion: 1, repo: repo, revision: revision, headCommit: headCommit.map { String($0.prefix(12)) },
            appliedCommit: appliedCommit.map { String($0.prefix(12)) }, lastSync: lastSync, error: syncError,
            diagnostics: diagnostics, apps: appStatuses())
    }

    func status(of runtime: AppRuntime) -> AppStatus {
        let live = liveTasks(of: runtime.name)
        let current = live.filter { $0.template == runtime.template && !$0.killRequested }
        let running = live.filter { $0.state == .taskRunning && !$0.killRequested }.count
        let healthy = current.filter(\.isHealthy).count
        let desired = runtime.workload.spec.instances
        var status = AppStatus(
            name: runtime.name, kind: runtime.workload.kind.rawValue, desiredCommit: String(runtime.commit.prefix(12)),
            runningCommit: majorityCommit(live), desiredInstances: desired, runningInstances: running,
            healthyInstances: runtime.isJob ? runtime.completions : healthy, phase: .progressing)

        if let failed = runtime.failedReason {
            status.phase = .failed
            status.reason = failed
            return status
        }
        if runtime.isJob {
            if runtime.completions >= desired {
                status.phase = .synced
            } else {
                status.reason = dependenciesReady(runtime) ?? runtime.lastFailure
                    ?? "job running: \(runtime.completions)/\(desired) finished"
                status.phase = runtime.failures > 0 ? .degraded : .progressing
            }
            return status
        }
        let decision = decision(for: runtime, live: live)
        if decision.converged {
            status.phase = .synced
            if let from = runtime.revertedFrom {
                status.phase = .failed
                status.reason = "reverted to \(runtime.commit.prefix(12)) after the rollout of \(from.prefix(12)) failed: \(runtime.lastFailure ?? "deadline missed")"
            }
            return status
        }
        let old = live.filter { $0.template != runtime.template && !$0.killRequested }.count
        if let waiting = dependenciesReady(runtime) {
            status.reason = waiting
        } else if let stuck = decision.stuck {
            status.phase = .degraded
            status.reason = stuck
        } else if runtime.failures > 0, let failure = runtime.lastFailure {
            status.phase = .degraded
            status.reason = failure
        } else if let problem = runtime.placementProblem {
            status.phase = .degraded
            status.reason = "will not fit: \(problem)"
        } else if old > 0 {
            status.reason = "rolling update: \(healthy)/\(desired) new instances healthy, \(old) old still running"
        } else if runtime.recordedConverged?.hasPrefix("\(runtime.commit)/\(runtime.template)/") == true, current.count >= desired {
            status.phase = .degraded
            status.reason = "\(healthy)/\(desired) instances healthy"
        } else {
            status.reason = "\(healthy)/\(desired) instances healthy; \(max(0, desired - current.count)) to launch"
            if let failure = runtime.lastFailure { status.reason! += " (last: \(failure))" }
        }
        return status
    }

    func majorityCommit(_ live: [TrackedTask]) -> String? {
        let counts = Dictionary(live.filter { $0.state == .taskRunning }.map { ($0.commit, 1) }, uniquingKeysWith: +)
        return counts.max { $0.value == $1.value ? $0.key > $1.key : $0.value < $1.value }?.key
    }
}
