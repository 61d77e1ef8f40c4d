import CapstanCore
import Foundation
import Logging

/// What became of a commit handed to the reconciler.
public enum ApplyOutcome: Sendable, Equatable {
    /// The commit's apps are now the desired state.
    case applied(created: [String], updated: [String], scaled: [String], deleted: [String])
    /// Nothing changed; the reason is in the status.
    case refused(String)
}

extension Reconciler {
    /// Makes a valid commit's apps the desired state. An empty set of apps is refused (it would delete everything),
    /// and deletions beyond the deletion budget are held back (those apps keep running) with the error in the status.
    @discardableResult
    public func apply(_ desired: DesiredState) async -> ApplyOutcome {
        let commit = desired.commit
        headCommit = commit
        lastSync = Date()
        if desired.workloads.isEmpty {
            let message = "the manifests at \(desired.commitLabel) declare no apps or jobs; refusing to delete everything (the previous commit keeps running)"
            syncError = message
            diagnostics = []
            try? await store.recordSync(commit: desired.commitLabel, outcome: .failed, message: message)
            logger.error("Refused an empty desired state", metadata: ["commit": "\(desired.commitLabel)"])
            return .refused(message)
        }

        let wanted = Dictionary(desired.workloads.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var removed = Set(apps.keys).subtracting(wanted.keys)
        if seeded { removed.formUnion(Set(tasks.values.filter(\.isLive).map(\.app)).subtracting(wanted.keys)) }
        var problems: [String] = []
        if let budget = configuration.maxDeletions, removed.count > budget {
            let names = removed.sorted().joined(separator: ", ")
            problems.append("this sync would delete \(removed.count) apps (\(names)), more than --max-deletions \(budget); none were deleted")
            removed = []
        }

        var created: [String] = [], updated: [String] = [], scaled: [String] = [], deleted: [String] = []
        let now = now()
        for (name, workload) in wanted.sorted(by: { $0.key < $1.key }) {
            if var runtime = apps[name] {
                let old = runtime.workload
                let templateChanged = old.templateLabel != workload.templateLabel
                if templateChanged {
                    let changes = SpecDiff.changes(from: old, to: workload).map(\.path).joined(separator: ", ")
                    runtime = AppRuntime(workload: workload, commit: commit, now: now)
                    updated.append(name)
                    await journal(name, .updated, commit: commit, spec: workload.templateLabel, "rolling update: \(changes)")
                } else {
                    if old.spec.instances != workload.spec.instances {
                        scaled.append(name)
                        runtime.lastProgress = now
                        runtime.progressMark = nil
                        await journal(name, .scaled, commit: commit, spec: workload.templateLabel,
                                      "scaled from \(old.spec.instances) to \(workload.spec.instances) instances")
                    }
                    runtime.workload = workload
                    runtime.commit = commit
                }
                runtime.revertedFrom = nil
                apps[name] = runtime
            } else {
                let live = liveTasks(of: name)
                apps[name] = AppRuntime(workload: workload, commit: commit, now: now)
                if live.isEmpty || live.contains(where: { $0.template != workload.templateLabel }) {
                    if live.isEmpty { created.append(name) } else { updated.append(name) }
                    await journal(name, live.isEmpty ? .created : .updated, commit: commit, spec: workload.templateLabel,
                                  live.isEmpty ? "created with \(workload.spec.instances) instances" : "taking over \(live.count) running tasks")
                }
            }
        }
        for name in removed.sorted() {
            apps[name] = nil
            let live = liveTasks(of: name)
            for task in live { requestKill(task.id) }
            deleted.append(name)
            await journal(name, .deleted, commit: commit, "pruned: removed from git (\(live.count) tasks killed)")
            try? await store.removeApp(name)
        }

        // A job that already finished at this template (before a restart, say) is not run again.
        for (name, runtime) in apps where runtime.isJob && runtime.completions == 0 {
            if let done = try? await store.lastConverged(app: name), done.specLabel == runtime.template {
                apps[name]?.completions = runtime.workload.spec.instances
                apps[name]?.recordedConverged = "\(runtime.commit)/\(runtime.template)/done"
            }
        }

        appliedCommit = commit
        diagnostics = []
        syncError = problems.isEmpty ? nil : problems.joined(separator: "; ")
        try? await store.recordSync(
            commit: desired.commitLabel, outcome: problems.isEmpty ? .applied : .failed,
            message: syncError ?? "applied: \(created.count) created, \(updated.count) updated, \(scaled.count) scaled, \(deleted.count) deleted")
        logger.info(
            "Applied commit",
            metadata: ["commit": "\(desired.commitLabel)", "created": "\(created)", "updated": "\(updated)", "scaled": "\(scaled)", "deleted": "\(deleted)"])
        return .applied(created: created, updated: updated, scaled: scaled, deleted: deleted)
    }

    /// Records a commit that failed validation: nothing changes; the diagnostics show in the status.
    public func reject(commit: String, diagnostics: [String]) async {
        headCommit = commit
        lastSync = Date()
        let short = String(commit.prefix(12))
        let running = appliedCommit.map { "still running \($0.prefix(12))" } ?? "nothing applied yet"
        syncError = "commit \(short) is invalid (\(diagnostics.count) problem\(diagnostics.count == 1 ? "" : "s")); \(running)"
        self.diagnostics = diagnostics
        try? await store.recordSync(commit: short, outcome: .invalid, message: diagnostics.first ?? "invalid")
        for name in apps.keys.sorted() {
            await journal(name, .invalidCommit, commit: commit, "commit \(short) is invalid; \(running)")
        }
    }

    /// Records that git could not be read; nothing changes.
    public func sourceFailed(_ message: String) {
        syncError = message
        lastSync = Date()
    }
}
