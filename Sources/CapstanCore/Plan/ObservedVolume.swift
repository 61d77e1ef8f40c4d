/// A persistent volume of an app that exists on an agent, as the planner sees it: read from an agent's resources (the
/// master's `GET_STATE`, or an offer), reserved for the reconciler's role, with a ``AppVolumeID`` as its ID.
public struct ObservedVolume: Sendable, Hashable {
    public var id: AppVolumeID
    public var agentID: AgentID
    /// The volume exactly as the agent holds it (role, reservation, persistence and container path): what a task
    /// that mounts it, and DESTROY, must name.
    public var resource: Resource

    public init(id: AppVolumeID, agentID: AgentID, resource: Resource) {
        self.id = id
        self.agentID = agentID
        self.resource = resource
    }

    /// Its size in MiB.
    public var sizeMiB: Double {
        if case .scalar(let size) = resource.value { return size }
        return 0
    }

    /// The app volumes among an agent's resources: disk of `role` whose persistence ID is an ``AppVolumeID``.
    public static func found(in resources: Resources, on agent: AgentID, role: String) -> [ObservedVolume] {
        resources.compactMap { entry in
            guard entry.name == "disk", entry.role == role, let volume = entry.volume,
                let id = AppVolumeID(persistenceID: volume.id)
            else { return nil }
            return ObservedVolume(id: id, agentID: agent, resource: entry)
        }
    }
}
