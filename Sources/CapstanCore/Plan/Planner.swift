/// Computes a ``Plan``: desired workloads (git at one commit) against observed tasks (the cluster).
///
/// Identity is by label, never by comparing specs field by field: a task runs the desired spec exactly
/// when its `capstan.spec` label equals the desired ``Workload/templateLabel``. Field-level changes are
/// only explanations, read from the manifests at the commits the tasks carry (`runningSpecs`).
///
/// Apps: no live task → `create`; a live task of another template → `update` (a rolling replacement,
/// already under way when some tasks run the desired template); a wrong number of live tasks → `scale`;
/// else `unchanged`. Jobs: `instances` runs of the current template must finish. As many finished tasks
/// (or a completion the reconciler's history remembers, ``ClusterSnapshot/completedJobs``) mean done; a
/// live task of an older template → `update`; no run yet → `create`; some runs finished or running but
/// fewer than `instances` in all (a run that failed) → `scale`; else running (`unchanged`).
///
/// This is the one place that decides what should change: `capstan diff` prints the plan, and the
/// reconciler's ``ReconcileMachine`` carries it out (at the pace its rollout rules allow).
/// Live tasks of a name that git no longer has → `delete`.
///
/// Suspended apps (`capstan suspend`): the item is planned as above, then held — its action becomes `unchanged`
/// with ``PlanItem/suspended`` set and what it would have done in a note; it launches and kills nothing, its
/// persistent volumes are not destroyed, and it is not a change. Both `capstan diff` and the reconciler pass the
/// same set, so both show it the same way.
///
/// Fit: when the agents are known, new instances (create, scale up, the replacements of an update) are
/// placed in name order on a ``PlacementLedger``. The resources of tasks that the plan kills — every task
/// of a deleted app and the outdated tasks of an updated one — are counted as free first; tasks removed
/// by a scale-down are not (which ones go is the rollout's choice), nor are tasks already being killed.
public enum Planner {
    /// - Parameters:
    ///   - desired: the workloads at the commit to deploy.
    ///   - actual: the cluster's Capstan tasks and, optionally, its agents' free resources.
    ///   - runningSpecs: the workloads read from git at the commits the cluster's tasks carry (any order;
    ///     a commit that could not be read is simply absent). Used for field-level changes only.
    ///   - suspended: apps whose reconciliation is paused: observed, never changed.
    public static func plan(
        desired: DesiredState, actual: ClusterSnapshot, runningSpecs: [DesiredState] = [], suspended: Set<AppName> = []
    ) -> Plan {
        let tasksByApp = Dictionary(grouping: actual.tasks, by: \.app)
        var desiredByName: [AppName: Workload] = [:]
        desiredByName.reserveCapacity(desired.workloads.count)
        for workload in desired.workloads where desiredByName[workload.name] == nil { desiredByName[workload.name] = workload }
        let specs = RunningSpecIndex(runningSpecs)

        var names = Set(desiredByName.keys)
        for (name, tasks) in tasksByApp where tasks.contains(where: \.isActive) { names.insert(name) }

        var drafts: [Draft] = []
        drafts.reserveCapacity(names.count)
        for name in names.sorted() {
            let tasks = tasksByApp[name] ?? []
            if let workload = desiredByName[name] {
                let label = desired.templateLabel(of: workload)
                drafts.append(workload.kind == .job
                    ? job(workload, label: label, tasks: tasks, completed: actual.completedJobs[name], specs: specs)
                    : app(workload, label: label, tasks: tasks, specs: specs))
            } else {
                let live = tasks.filter(\.isActive).sorted { $0.taskID < $1.taskID }
                let item = PlanItem(
                    name: name, kind: live[0].kind, action: .delete, currentInstances: live.count, desiredInstances: 0,
                    tasks: live.map(\.taskID), outdatedTasks: live.map(\.taskID), runningCommits: commits(live))
                drafts.append(Draft(item: item, freed: live))
            }
        }
        if !suspended.isEmpty {
            for index in drafts.indices where suspended.contains(drafts[index].item.name) { hold(&drafts[index]) }
        }
        if let agents = actual.agents { placeAll(&drafts, on: agents, volumes: actual.volumes) }
        for index in drafts.indices where drafts[index].needed > 0 && actual.agents == nil {
            drafts[index].item.fit = .unchecked
        }
        for index in drafts.indices {
            drafts[index].item.newInstances = drafts[index].needed
            if let pinned = desired.appCommits[drafts[index].item.name], pinned != desired.commit {
                drafts[index].item.pinnedCommit = pinned.short
            }
        }
        var volumes = VolumePlanner.plan(desired: desiredByName, tasks: tasksByApp, volumes: actual.volumes)
        for index in volumes.indices where volumes[index].action == .destroy && suspended.contains(volumes[index].id.app) {
            volumes[index].action = .retain
            volumes[index].note = "kept while the app is suspended"
        }
        return Plan(commit: desired.commit, items: drafts.map(\.item), volumes: volumes)
    }

    /// An item before placement: what it launches (`needed` instances of `demand`) and what it frees.
    struct Draft {
        var item: PlanItem
        var needed = 0
        var workload: Workload?
        /// Live tasks that keep running (their agents count for `unique`/`maxPer`).
        var kept: [ObservedTask] = []
        /// Live tasks the plan kills (their resources count as free).
        var freed: [ObservedTask] = []
    }

    /// A suspended app's item: nothing launched or killed; what the plan would do is kept as a note.
    static func hold(_ draft: inout Draft) {
        var item = draft.item
        if item.action != .unchanged {
            item.notes.insert("suspended: would \(item.action.rawValue) (\(PlanRenderer.instances(item)))", at: 0)
        } else {
            item.notes.insert("suspended", at: 0)
        }
        item.action = .unchanged
        item.suspended = true
        draft = Draft(item: item, needed: 0, workload: draft.workload, kept: draft.kept + draft.freed, freed: [])
    }

    // MARK: Apps

    static func app(_ workload: Workload, label: String, tasks: [ObservedTask], specs: RunningSpecIndex) -> Draft {
        let live = tasks.filter(\.isActive).sorted { $0.taskID < $1.taskID }
        let upToDate = live.filter { $0.templateLabel == label }
        let outdated = live.filter { $0.templateLabel != label }
        let instances = max(0, workload.spec.instances)
        var item = PlanItem(
            name: workload.name, kind: .app, action: .unchanged, currentInstances: live.count, desiredInstances: instances,
            tasks: live.map(\.taskID), outdatedTasks: outdated.map(\.taskID), runningCommits: commits(live),
            templateLabel: label)
        var draft = Draft(item: item, workload: workload)

        if live.isEmpty {
            item.action = instances == 0 ? .unchanged : .create
            draft.needed = instances
        } else if !outdated.isEmpty {
            item.action = .update
            draft.needed = max(0, instances - upToDate.count)
            draft.kept = upToDate
            draft.freed = outdated
            explainUpdate(&item, workload, outdated: outdated, upToDate: upToDate.count, specs: specs)
        } else {
            // Every live task runs the desired template: only orchestration fields can differ.
            var changes: [FieldChange] = []
            if let old = specs.spec(for: live, app: workload.name, desired: workload, desiredLabel: label), old != workload {
                changes = SpecDiff.changes(from: old, to: workload)
            }
            changes.removeAll { $0.path == "spec.instances" }
            if live.count != instances {
                item.action = .scale
                draft.needed = max(0, instances - live.count)
                changes.insert(
                    FieldChange(path: "spec.instances", old: .number(Double(live.count)), new: .number(Double(instances))),
                    at: changes.firstIndex { $0.path > "spec.instances" } ?? changes.endIndex)
            }
            item.changes = changes
            draft.kept = live
        }
        draft.item = item
        return draft
    }

    /// Field changes of an update, from the manifest behind the most common outdated template.
    static func explainUpdate(_ item: inout PlanItem, _ workload: Workload, outdated: [ObservedTask], upToDate: Int, specs: RunningSpecIndex) {
        var byLabel: [String: [ObservedTask]] = [:]
        for task in outdated { byLabel[task.templateLabel, default: []].append(task) }
        let (oldLabel, oldTasks) = byLabel.max { ($0.value.count, $1.key) < ($1.value.count, $0.key) }!
        if let old = specs.spec(for: oldTasks, app: workload.name, desired: workload, desiredLabel: item.templateLabel ?? "") {
            item.changes = SpecDiff.changes(from: old, to: workload)
        } else {
            let commits = Set(oldTasks.map(\.commit)).sorted().joined(separator: ", ")
            item.notes.append("the manifest of template \(oldLabel) (commit \(commits.isEmpty ? "unknown" : commits)) could not be read: field-level changes unknown")
        }
        if byLabel.count > 1 {
            item.notes.append("outdated tasks run \(byLabel.count) different templates; changes shown from \(oldLabel)")
        }
        if upToDate > 0 {
            item.notes.append("rollout under way: \(upToDate) of \(upToDate + outdated.count) live tasks already run the desired template")
        }
    }

    // MARK: Jobs

    static func job(_ workload: Workload, label: String, tasks: [ObservedTask], completed: String?, specs: RunningSpecIndex) -> Draft {
        let live = tasks.filter(\.isActive).sorted { $0.taskID < $1.taskID }
        let current = live.filter { $0.templateLabel == label }
        let outdated = live.filter { $0.templateLabel != label }
        let instances = max(1, workload.spec.instances)
        let finishedRuns = tasks.filter { $0.templateLabel == label && $0.phase == .finished }.count
        let done = finishedRuns >= instances || completed == label
        let missing = done ? 0 : max(0, instances - finishedRuns - current.count)
        var item = PlanItem(
            name: workload.name, kind: .job, action: .unchanged, currentInstances: live.count,
            desiredInstances: current.count + missing, tasks: live.map(\.taskID), outdatedTasks: outdated.map(\.taskID),
            runningCommits: commits(live), templateLabel: label)
        var draft = Draft(item: item, workload: workload)
        draft.needed = missing
        draft.kept = current

        if !outdated.isEmpty {
            item.action = .update
            draft.freed = outdated
            explainUpdate(&item, workload, outdated: outdated, upToDate: current.count, specs: specs)
        } else if done {
            item.notes.append("completed")
        } else if missing == 0 {
            item.notes.append(finishedRuns > 0 ? "running: \(finishedRuns) of \(instances) runs finished" : "running")
        } else if current.isEmpty && finishedRuns == 0 {
            item.action = .create
            let previous = tasks.filter { $0.templateLabel != label }
            let previousFinished = previous.filter { $0.phase == .finished }
            if let old = specs.spec(
                for: previousFinished.isEmpty ? previous : previousFinished, app: workload.name, desired: workload,
                desiredLabel: label) {
                item.changes = SpecDiff.changes(from: old, to: workload)
                item.notes.append("runs again: the spec changed since the last run")
            }
            if tasks.contains(where: { $0.templateLabel == label && $0.phase == .failed }) {
                item.notes.append("an earlier run of this spec failed")
            }
        } else {
            // Some runs finished or run, not all: the rest are launched (a run that failed is run again).
            item.action = .scale
            item.notes.append("\(finishedRuns) of \(instances) runs finished, \(current.count) running; \(missing) more to run")
        }
        draft.item = item
        return draft
    }

    // MARK: Placement

    static func placeAll(_ drafts: inout [Draft], on agents: [AgentCapacity], volumes: [ObservedVolume] = []) {
        var ledger = PlacementLedger(agents: agents)
        for draft in drafts {
            for task in draft.freed { ledger.release(task.resources.withoutVolumes, on: task.agentID) }
        }
        for index in drafts.indices where drafts[index].needed > 0 {
            guard let workload = drafts[index].workload else { continue }
            let matcher = ConstraintMatcher(workload.spec.constraints)
            var used = ConstraintUsage()
            if !matcher.isEmpty {
                for task in drafts[index].kept {
                    if let host = ledger.host(of: task.agentID) {
                        matcher.record(hostname: host.hostname, attributes: host.attributes, in: &used)
                    }
                }
            }
            var slots = VolumeSlots(workload: workload, liveSlots: drafts[index].kept.compactMap(\.slot), volumes: volumes)
            if slots.isEmpty {
                drafts[index].item.fit = ledger.place(
                    InstanceDemand(workload.spec), count: drafts[index].needed, matcher: matcher, used: &used)
            } else {
                drafts[index].item.fit = ledger.place(
                    count: drafts[index].needed, matcher: matcher, used: &used, slots: &slots, demand: InstanceDemand(workload.spec, volumes: false))
            }
        }
    }

    static func commits(_ tasks: [ObservedTask]) -> [String] {
        Array(Set(tasks.map(\.commit).filter { !$0.isEmpty })).sorted()
    }
}

/// The workloads at the commits the cluster runs, by (12-digit commit, name).
struct RunningSpecIndex {
    private var byCommit: [String: [AppName: (workload: Workload, label: () -> String)]] = [:]

    init(_ states: [DesiredState]) {
        for state in states {
            var byName = byCommit[state.commitLabel] ?? [:]
            for workload in state.workloads where byName[workload.name] == nil {
                byName[workload.name] = (workload, { state.templateLabel(of: workload) })
            }
            byCommit[state.commitLabel] = byName
        }
    }

    /// The manifest behind `tasks` (all of one app): read at the commit most of them carry, and only if
    /// its template is the one a task was launched with (so a commit whose manifest differs from what the
    /// task runs never explains it). `desiredLabel` is `desired`'s template label, known already: a
    /// manifest equal to the desired one is not hashed again.
    func spec(for tasks: [ObservedTask], app: AppName, desired: Workload, desiredLabel: String) -> Workload? {
        guard !tasks.isEmpty, !byCommit.isEmpty else { return nil }
        var counts: [String: Int] = [:]
        for task in tasks { counts[String(task.commit.prefix(12)), default: 0] += 1 }
        for (commit, _) in counts.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
            guard let (workload, computeLabel) = byCommit[commit]?[app] else { continue }
            let label = workload == desired ? desiredLabel : computeLabel()
            if tasks.contains(where: { $0.commit.hasPrefix(commit) && $0.templateLabel == label }) { return workload }
        }
        return nil
    }
}
