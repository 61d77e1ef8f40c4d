public import CapstanCore
import CLinux
import CapstanLinux
import Glibc

/// cgroup v2 has no devices controller: each container's cgroup gets a `BPF_PROG_TYPE_CGROUP_DEVICE` program
/// (``DeviceProgram``) that the kernel runs on every open and mknod of a device node by a process in it.
///
/// The program is attached without `BPF_F_ALLOW_MULTI`, so it is the cgroup's only one, and a later attach replaces it.
/// The cgroup holds the program once attached: no fd stays open here, and a recovered container keeps its program.
public struct DevicesCgroupV2: DeviceController {
    /// The cgroup2 hierarchy (no controller is enabled: device programs need none).
    public let hierarchy: CgroupHierarchy

    /// `statfs(2)`'s `f_type` of a cgroup2 mount (`CGROUP2_SUPER_MAGIC`).
    public static let cgroup2Magic: UInt64 = 0x6367_7270

    /// Device programs in the cgroup2 hierarchy mounted at `root` (taken as given; see ``isCgroup2(_:)``).
    public init(root: String) {
        hierarchy = .unified(root: root)
    }

    /// Device programs at `root` when a cgroup2 file system is mounted there; nil otherwise.
    public init?(mountedAt root: String) {
        guard Self.isCgroup2(root) else { return nil }
        self.init(root: root)
    }

    /// Whether `path` is on a cgroup2 file system.
    public static func isCgroup2(_ path: String) -> Bool {
        var type: UInt64 = 0
        return capstan_fs_type(path, &type) == 0 && type == cgroup2Magic
    }

    public var description: String { "cgroup v2 device programs at \(hierarchy.root)" }

    public func path(of id: ContainerID) -> String { hierarchy.path(of: id) }

    /// Checks that containers' cgroups can be made, and that this kernel loads the default device program.
    /// - Throws: the hierarchy's error, or the load's (its errno and the verifier's log).
    public func checkUsable() throws {
        try hierarchy.checkUsable()
        let program = try CgroupDeviceBPF.load(DeviceProgram(.containerDefaults))
        close(program)
    }

    /// Creates the cgroup and attaches `policy`'s program to it. When the program cannot be attached, a cgroup this
    /// call made is removed again, so that no process is ever moved into a cgroup without its program.
    public func create(_ id: ContainerID, policy: DevicePolicy) throws {
        let path = hierarchy.path(of: id)
        let existed = access(path, F_OK) == 0
        try hierarchy.create(id)
        do {
            try CgroupDeviceBPF.install(DeviceProgram(policy), on: path)
        } catch {
            if !existed { rmdir(path) }
            throw error
        }
    }

    /// How many device programs the container's cgroup has attached (1 once ``create(_:policy:)`` succeeded).
    public func attachedPrograms(_ id: ContainerID) throws -> Int { try CgroupDeviceBPF.attachedCount(hierarchy.path(of: id)) }

    public func add(_ id: ContainerID, pid: Int32) throws { try hierarchy.add(id, pid: pid) }

    public func destroy(_ id: ContainerID) async throws { try await hierarchy.destroy(id) }
}
