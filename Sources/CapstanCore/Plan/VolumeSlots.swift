/// Where an app's next instances go when it has persistent volumes: each instance takes a free slot (the lowest not
/// held by a live task), and a slot whose volumes exist runs on the agent that holds them. The planner (for fit) and the
/// reconciler (for offers) ask this one type, so `capstan diff` and the daemon pin instances the same way.
public struct VolumeSlots: Sendable {
    /// The manifest's persistent volumes that instances mount (not those marked `destroy: confirm`).
    public struct Declared: Sendable, Hashable {
        public var path: String
        public var key: String
        public var sizeMiB: Double
    }

    /// One instance to launch: its slot, the agent it must run on (nil: any), the volumes it mounts that exist, and
    /// those to reserve and create for it where it lands.
    public struct Launch: Sendable, Hashable {
        public var slot: Int
        public var agentID: AgentID?
        public var existing: [ObservedVolume]
        public var create: [Declared]

        /// Disk the instance needs beyond its own `disk`: what its new volumes reserve.
        public var newVolumeMiB: Double { create.reduce(0) { $0 + $1.sizeMiB } }
    }

    public let app: AppName
    public let declared: [Declared]
    /// The app's volumes that exist, by slot.
    public let volumesBySlot: [Int: [ObservedVolume]]
    /// Slots run from 0 to `instances` - 1.
    public let slotCount: Int
    private var taken: Set<Int>

    /// - Parameters:
    ///   - liveSlots: slots of the app's live tasks that keep running.
    ///   - volumes: every app volume known (other apps' are ignored).
    public init(workload: Workload, liveSlots: [Int], volumes: [ObservedVolume]) {
        app = workload.name
        declared = Self.declared(workload.spec)
        var bySlot: [Int: [ObservedVolume]] = [:]
        for volume in volumes where volume.id.app == workload.name { bySlot[volume.id.slot, default: []].append(volume) }
        volumesBySlot = bySlot.mapValues { $0.sorted { $0.id < $1.id } }
        slotCount = workload.instanceCount
        taken = Set(liveSlots)
    }

    /// The persistent volumes instances of `spec` mount.
    public static func declared(_ spec: WorkloadSpec) -> [Declared] {
        spec.volumes.compactMap { volume in
            guard case .persistent(let size, let destroy) = volume.source, !destroy else { return nil }
            return Declared(path: volume.path, key: AppVolumeID.key(forPath: volume.path), sizeMiB: size)
        }
    }

    /// How many slots no live task holds.
    public var freeCount: Int { (0..<slotCount).filter { !taken.contains($0) }.count }

    /// Whether instances need slots at all.
    public var isEmpty: Bool { declared.isEmpty }

    /// The next instance's slot, taken: the lowest one no live task holds; nil when every slot is held (a replacement
    /// waits for the task it replaces to end and free its slot's volumes).
    public mutating func next() -> Launch? {
        guard let slot = (0..<slotCount).first(where: { !taken.contains($0) }) else { return nil }
        taken.insert(slot)
        return launch(slot)
    }

    /// Gives back a slot taken by ``next()`` whose instance found no place.
    public mutating func release(_ slot: Int) { taken.remove(slot) }

    /// What an instance in `slot` mounts and creates, and where it must run.
    public func launch(_ slot: Int) -> Launch {
        let existing = volumesBySlot[slot] ?? []
        var mounted: [ObservedVolume] = []
        var create: [Declared] = []
        for volume in declared {
            if let found = existing.first(where: { $0.id.key == volume.key }) { mounted.append(found) } else { create.append(volume) }
        }
        // Every volume of a slot lives on one agent: the one that holds any of them (also one no longer declared).
        return Launch(slot: slot, agentID: existing.first?.agentID, existing: mounted, create: create)
    }
}
