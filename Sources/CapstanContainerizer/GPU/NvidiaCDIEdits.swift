import CapstanCore

/// The NVIDIA CDI spec's edits for the GPUs a container holds (the spec `nvidia-ctk cdi generate` writes: kind
/// `nvidia.com/gpu`, devices named by index, by UUID, and `all`). When the agent has such a spec, ``NvidiaGPUIsolator``
/// gives a container its GPUs' edits instead of the driver volume. Pure: the resolution and planning are the CDI
/// registry's.
public enum NvidiaCDIEdits {
    /// The kind NVIDIA's spec defines its GPUs under.
    public static let kindName = "nvidia.com/gpu"

    /// What a container gets from the spec, and what of the spec it does not get.
    public struct Application: Sendable, Equatable {
        /// The device nodes, bind mounts and environment.
        public var hooks: LaunchHooks
        /// The edits left out, each in a few words (hooks, additional groups, mounts that are not binds).
        public var ignored: [String]

        public init(hooks: LaunchHooks = LaunchHooks(), ignored: [String] = []) {
            self.hooks = hooks
            self.ignored = ignored
        }
    }

    /// Whether `registry` defines devices of kind `nvidia.com/gpu`.
    public static func present(in registry: CDIRegistry) -> Bool {
        registry.deviceNames.contains { $0.kind.description == kindName }
    }

    /// The fully qualified device names of `gpus` in `registry`: each GPU by its NVML index (`nvidia.com/gpu=0`), else
    /// by its UUID. Never `all`, which would give the container every GPU.
    /// - Throws: `notFound` naming the GPU and the spec's devices when the spec has neither name for it.
    public static func deviceNames(for gpus: [GPUDevice], in registry: CDIRegistry) throws -> [String] {
        let known = Set(registry.deviceNames.filter { $0.kind.description == kindName }.map(\.name))
        return try gpus.map { gpu in
            if known.contains(String(gpu.index)) { return "\(kindName)=\(gpu.index)" }
            if known.contains(gpu.uuid) { return "\(kindName)=\(gpu.uuid)" }
            throw CapstanError(
                .notFound,
                "gpu/nvidia: the NVIDIA CDI spec has no device for GPU \(gpu.index) (\(gpu.uuid)); its \(kindName) devices are \(known.sorted().joined(separator: ", ")); regenerate it (nvidia-ctk cdi generate)")
        }
    }

    /// The launch additions of `plan`: its device nodes (FIFOs left out: the device policy has no rule for them), its
    /// bind mounts and its environment. Other mounts, hooks and additional groups are reported in
    /// ``Application/ignored``.
    public static func application(of plan: CDIDevicePlan) -> Application {
        var application = Application()
        for node in plan.deviceNodes {
            guard let spec = plan.deviceNodeSpec(node) else {
                application.ignored.append("FIFO \(node.path)")
                continue
            }
            application.hooks.deviceNodes.append(spec)
        }
        for mount in plan.mounts {
            guard let bind = mount.bindMountSpec else {
                application.ignored.append("\(mount.type) mount at \(mount.destination)")
                continue
            }
            application.hooks.mounts.append(bind)
        }
        application.hooks.environment = plan.environment
        for (stage, hooks) in plan.hooks.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            application.ignored += hooks.map { "\(stage.rawValue) hook \($0.path)" }
        }
        if !plan.additionalGids.isEmpty { application.ignored.append("additional gids \(plan.additionalGids.map(String.init).joined(separator: ","))") }
        return application
    }

    /// `base` with the nodes of `extra` whose paths it lacks.
    public static func merging(_ base: [DeviceNodeSpec], _ extra: [DeviceNodeSpec]) -> [DeviceNodeSpec] {
        let paths = Set(base.map(\.path))
        return base + extra.filter { !paths.contains($0.path) }
    }
}
