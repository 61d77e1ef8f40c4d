public import CapstanCore

/// Chooses the machine's ``DeviceController``.
public enum DeviceControllers {
    /// The cgroup v1 devices hierarchy under `base` when there is one, else cgroup v2 device programs when `base` is a
    /// cgroup2 mount.
    /// - Throws: `unsupported` when there is neither, or the chosen controller's error when root cannot make cgroups
    ///   there (or, on v2, this kernel refuses to load a device program).
    public static func system(base: String = "/sys/fs/cgroup") throws -> any DeviceController {
        if let v1 = DevicesCgroupV1(base: base) {
            try v1.checkUsable()
            return v1
        }
        if let v2 = DevicesCgroupV2(mountedAt: base) {
            try v2.checkUsable()
            return v2
        }
        throw CapstanError(
            .unsupported,
            "cgroups/devices: '\(base)' has no cgroup v1 devices hierarchy and is not a cgroup2 mount; leave gpu/nvidia and cgroups/devices out of --isolation and --cdi-spec-dirs empty")
    }
}
