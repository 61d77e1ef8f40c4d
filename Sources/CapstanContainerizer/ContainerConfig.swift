public import CapstanCore

/// Resource limits of a container, as isolators enforce them. `nil` means unlimited.
///
/// Kept apart from Core's `Resources` on purpose: isolators only need these two numbers.
public struct ResourceLimits: Sendable, Hashable, Codable {
    /// CPU shares in cores (e.g. `0.5`).
    public var cpus: Double?
    /// Memory limit in bytes.
    public var memBytes: UInt64?

    /// Creates limits; both default to unlimited.
    public init(cpus: Double? = nil, memBytes: UInt64? = nil) {
        self.cpus = cpus
        self.memBytes = memBytes
    }
}

/// Everything needed to start one container.
public struct ContainerConfig: Sendable, Hashable, Codable {
    /// The container's identity on this agent.
    public var containerID: ContainerID
    /// What the first process runs.
    public var command: CommandSpec
    /// An existing directory: the process starts there, and its stdout and stderr are appended
    /// to `stdout` and `stderr` inside it (created if missing).
    public var sandboxDirectory: String
    /// Limits for the isolators.
    public var limits: ResourceLimits

    /// Creates a configuration.
    public init(containerID: ContainerID, command: CommandSpec, sandboxDirectory: String, limits: ResourceLimits = ResourceLimits()) {
        self.containerID = containerID
        self.command = command
        self.sandboxDirectory = sandboxDirectory
        self.limits = limits
    }
}
