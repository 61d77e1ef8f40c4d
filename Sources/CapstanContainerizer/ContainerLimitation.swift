/// The resource whose limit an isolator saw hit.
public enum LimitedResource: String, Sendable, Hashable, Codable, CaseIterable {
    /// Memory (`cgroups/mem`): the kernel's OOM killer ended a process of the container.
    case memory
    /// Disk space of the sandbox or the container's writable layer.
    case disk
    /// CPU time.
    case cpu
    /// The number of processes and threads.
    case processes

    /// The name of the Mesos resource it limits (`mem`, `disk`, `cpus`), for a task status's `limitation`; `nil`
    /// where Mesos has no such resource.
    public var mesosResourceName: String? {
        switch self {
        case .memory: "mem"
        case .disk: "disk"
        case .cpu: "cpus"
        case .processes: nil
        }
    }
}

/// Why a limitation ended a container, one case per Mesos `TaskStatus.Reason` for a container limitation
/// (`containerizer.proto`'s `ContainerLimitation.reason`); the agent maps it to that reason without matching text.
public enum LimitationReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// `REASON_CONTAINER_LIMITATION_MEMORY`.
    case memory
    /// `REASON_CONTAINER_LIMITATION_DISK`.
    case disk
    /// `REASON_CONTAINER_LIMITATION`: any other resource.
    case other

    /// The reason Mesos gives a limitation of `resource`.
    public init(_ resource: LimitedResource) {
        switch resource {
        case .memory: self = .memory
        case .disk: self = .disk
        case .cpu, .processes: self = .other
        }
    }
}

/// A limit an isolator saw hit, ending the container.
public struct ContainerLimitation: Sendable, Hashable, Codable {
    /// The resource whose limit was hit.
    public var resource: LimitedResource
    /// The reason the task's terminal status carries.
    public var reason: LimitationReason
    /// One sentence for people naming the limit, e.g. `Memory limit exceeded: Requested: 32 MiB Maximum Used: 32 MiB`.
    public var message: String

    /// Creates a limitation; `reason` defaults to the one Mesos gives `resource`.
    public init(resource: LimitedResource, reason: LimitationReason? = nil, message: String) {
        self.resource = resource
        self.reason = reason ?? LimitationReason(resource)
        self.message = message
    }
}
