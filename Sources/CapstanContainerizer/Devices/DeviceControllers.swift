public import CapstanCore

/// Chooses the machine's ``DeviceController``.
public enum DeviceControllers {
    /// The cgroup v1 devices hierarchy under `base` when there is one.
    /// - Throws: `unsupported` when there is none (cgroup v2 device programs are not attached yet), or the hierarchy's
    ///   error when root cannot make cgroups in it.
    public static func system(base: String = "/sys/fs/cgroup") throws -> any DeviceController {
        if let v1 = DevicesCgroupV1(base: base) {
            try v1.checkUsable()
            return v1
        }
        throw CapstanError(
            .unsupported,
            "cgroups/devices: no cgroup v1 devices hierarchy under '\(base)' (cgroup v2 device programs are not supported yet); leave gpu/nvidia and cgroups/devices out of --isolation and --cdi-spec-dirs empty")
    }
}
