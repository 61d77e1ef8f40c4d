public import CapstanCore

/// Enforces a container's ``DevicePolicy`` in the kernel: a cgroup per container whose device access the policy
/// limits. ``DevicesCgroupV1`` writes cgroup v1 `devices.deny`/`devices.allow`; ``DevicesCgroupV2`` attaches a
/// `BPF_PROG_TYPE_CGROUP_DEVICE` program to the container's cgroup.
///
/// The containerizer owns these cgroups (`<root>/capstan/<container-id>`), so no host service manager rewrites them.
public protocol DeviceController: Sendable {
    /// For logs: `cgroup v1 devices at /sys/fs/cgroup/devices`.
    var description: String { get }

    /// The container's cgroup directory.
    func path(of id: ContainerID) -> String

    /// Creates the container's cgroup and limits it to `policy`.
    /// - Throws: ``CapstanError`` naming the file or system call that failed.
    func create(_ id: ContainerID, policy: DevicePolicy) throws

    /// Moves `pid` into the container's cgroup.
    func add(_ id: ContainerID, pid: Int32) throws

    /// Kills what is left in the container's cgroup and removes it; a missing cgroup is fine.
    func destroy(_ id: ContainerID) async throws
}

/// cgroup v1's `devices` controller: `a` written to `devices.deny`, then one `devices.allow` line per rule.
public struct DevicesCgroupV1: DeviceController {
    public let hierarchy: CgroupHierarchy

    /// Finds the v1 devices hierarchy under `base`; nil when there is none.
    public init?(base: String = "/sys/fs/cgroup") {
        guard let hierarchy = CgroupHierarchy.find("devices", base: base), hierarchy.version == .v1 else { return nil }
        self.hierarchy = hierarchy
    }

    public var description: String { "cgroup v1 devices at \(hierarchy.root)" }

    public func path(of id: ContainerID) -> String { hierarchy.path(of: id) }

    /// Checks that containers' cgroups can be made.
    public func checkUsable() throws { try hierarchy.checkUsable() }

    public func create(_ id: ContainerID, policy: DevicePolicy) throws {
        try hierarchy.create(id)
        let path = hierarchy.path(of: id)
        try Cgroup.write("a", to: path + "/devices.deny")
        for rule in policy.rules { try Cgroup.write(rule.description, to: path + "/devices.allow") }
    }

    public func add(_ id: ContainerID, pid: Int32) throws { try hierarchy.add(id, pid: pid) }

    public func destroy(_ id: ContainerID) async throws { try await hierarchy.destroy(id) }
}
