/// What the plan does with one persistent volume of an app.
public struct PlannedVolume: Sendable, Hashable {
    public enum Action: String, Sendable, Hashable, CaseIterable {
        /// It exists and the manifest still mounts it: kept (in use, or waiting for its slot's next instance).
        case keep
        /// The manifest declares it and it does not exist yet: reserved and created with the instance that mounts it.
        case create
        /// It exists and nothing mounts it any more (its app or path left git, or its slot is above `instances`): its
        /// data is kept until the manifest says `destroy: confirm`.
        case retain
        /// The manifest says `destroy: confirm`: destroyed (its data deleted) and unreserved once no task uses it.
        case destroy
    }

    public var id: AppVolumeID
    public var action: Action
    /// The manifest path; nil when git no longer has it.
    public var path: String?
    public var sizeMiB: Double
    /// The agent that holds it; for a `create`, the agent it must be made on (nil: where the instance lands).
    public var agentID: AgentID?
    /// The live task that mounts it.
    public var usedBy: TaskID?
    /// Why, for a user: a size the manifest changes, why it is retained, what a destroy waits for.
    public var note: String?

    public init(
        id: AppVolumeID, action: Action, path: String?, sizeMiB: Double, agentID: AgentID?, usedBy: TaskID? = nil, note: String? = nil
    ) {
        self.id = id
        self.action = action
        self.path = path
        self.sizeMiB = sizeMiB
        self.agentID = agentID
        self.usedBy = usedBy
        self.note = note
    }
}

/// The volume half of the plan: every existing app volume and every one the manifests declare, with what happens to it.
enum VolumePlanner {
    static func plan(desired: [AppName: Workload], tasks: [AppName: [ObservedTask]], volumes: [ObservedVolume]) -> [PlannedVolume] {
        var out: [PlannedVolume] = []
        var byApp: [AppName: [ObservedVolume]] = [:]
        for volume in volumes { byApp[volume.id.app, default: []].append(volume) }
        var names = Set(byApp.keys)
        for (name, workload) in desired where !VolumeSlots.declared(workload.spec).isEmpty {
            names.insert(name)
        }
        for name in names.sorted() {
            let existing = (byApp[name] ?? []).sorted { $0.id < $1.id }
            let live = (tasks[name] ?? []).filter(\.isActive)
            func user(_ volume: ObservedVolume) -> TaskID? {
                live.first { task in task.agentID == volume.agentID && task.resources.contains { $0.volume?.id == volume.id.persistenceID } }?.taskID
            }
            guard let workload = desired[name] else {
                for volume in existing {
                    out.append(PlannedVolume(
                        id: volume.id, action: .retain, path: nil, sizeMiB: volume.sizeMiB, agentID: volume.agentID, usedBy: user(volume),
                        note: "\(name) is not in git: its data is kept; to delete it, declare the volume again with persistent.destroy: confirm"))
                }
                continue
            }
            var declared: [String: (path: String, size: Double, destroy: Bool)] = [:]
            for volume in workload.spec.volumes {
                if case .persistent(let size, let destroy) = volume.source {
                    declared[AppVolumeID.key(forPath: volume.path)] = (volume.path, size, destroy)
                }
            }
            let instances = workload.instanceCount
            var seen = Set<AppVolumeID>()
            for volume in existing {
                seen.insert(volume.id)
                let used = user(volume)
                guard let spec = declared[volume.id.key] else {
                    out.append(PlannedVolume(
                        id: volume.id, action: .retain, path: nil, sizeMiB: volume.sizeMiB, agentID: volume.agentID, usedBy: used,
                        note: "its path is no longer in \(name)'s manifest: its data is kept; to delete it, declare it again with persistent.destroy: confirm"))
                    continue
                }
                if spec.destroy {
                    out.append(PlannedVolume(
                        id: volume.id, action: .destroy, path: spec.path, sizeMiB: volume.sizeMiB, agentID: volume.agentID, usedBy: used,
                        note: used.map { "destroyed once \($0) stops" }))
                } else if volume.id.slot >= instances {
                    out.append(PlannedVolume(
                        id: volume.id, action: .retain, path: spec.path, sizeMiB: volume.sizeMiB, agentID: volume.agentID, usedBy: used,
                        note: "slot \(volume.id.slot) is above instances (\(instances)): its data is kept for a scale-up; persistent.destroy: confirm deletes it"))
                } else {
                    let resized = abs(spec.size - volume.sizeMiB) > ScalarFormat.epsilon
                    out.append(PlannedVolume(
                        id: volume.id, action: .keep, path: spec.path, sizeMiB: volume.sizeMiB, agentID: volume.agentID, usedBy: used,
                        note: resized ? "stays \(ScalarFormat.text(volume.sizeMiB)) MiB: a persistent volume is not resized (the manifest asks \(ScalarFormat.text(spec.size)) MiB)" : nil))
                }
            }
            let slotAgents = Dictionary(existing.map { ($0.id.slot, $0.agentID) }, uniquingKeysWith: { first, _ in first })
            for slot in 0..<instances {
                for (key, spec) in declared.sorted(by: { $0.key < $1.key }) where !spec.destroy {
                    let id = AppVolumeID(app: name, slot: slot, key: key)
                    guard !seen.contains(id) else { continue }
                    out.append(PlannedVolume(
                        id: id, action: .create, path: spec.path, sizeMiB: spec.size, agentID: slotAgents[slot],
                        note: slotAgents[slot] == nil ? nil : "made beside the slot's other volumes"))
                }
            }
        }
        return out.sorted { $0.id < $1.id }
    }
}
