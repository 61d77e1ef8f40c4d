public import CapstanCore
import CapstanInitSpec

/// What the `devices/cdi` isolator gives a container for its CDI devices: the pure translation of a
/// ``CDIDevicePlan`` into the launch's seams.
///
/// - Device nodes become ``DeviceNodeSpec``s (kind, cgroup access, mode, owner): made in the container's own `/dev`
///   by `capstan-init` and allowed by `cgroups/devices`. A FIFO is refused (no launcher makes one). In a container
///   from an image a node must be under `/dev/`; a container without an image shares the host's `/dev`, where
///   nothing is made, so there a node must sit at its host path (`path` equal to `hostPath`, or no `hostPath`): a
///   node the spec moves elsewhere fails the launch rather than silently being missing.
/// - Bind mounts become ``BindMountSpec``s (`ro` makes them read-only; the other options are not applied: every
///   bind is recursive and private). Any other mount type (`tmpfs`, `proc`…) is refused.
/// - `env` becomes environment variables laid over the task's; `additionalGids` become supplementary groups of the
///   task's process.
/// - Hooks are kept by stage for ``CDIHookRunner``.
public struct CDILaunchEdits: Sendable, Equatable {
    /// The nodes, mounts, environment and groups for ``LaunchHooks``.
    public var launchHooks: LaunchHooks
    /// The hooks, by stage, each stage's in spec order.
    public var hooks: [CDIHookStage: [CDIHook]]

    /// Translates `plan` for a container from an image (`hasRootfs`) or one sharing the host's filesystem.
    /// - Throws: `unsupported` for a FIFO or a mount that is not a bind; `invalidArgument` for a node Capstan cannot
    ///   make where the spec puts it.
    public init(_ plan: CDIDevicePlan, hasRootfs: Bool) throws {
        var launch = LaunchHooks()
        for node in plan.deviceNodes {
            guard let spec = plan.deviceNodeSpec(node) else {
                throw CapstanError(.unsupported, "CDI device node \(node.path) is a FIFO, which Capstan does not make")
            }
            if hasRootfs {
                guard InitSpec.DeviceNode.isAllowedPath(node.path) else {
                    throw CapstanError(.invalidArgument, "CDI device node \(node.path) is not under /dev/, where Capstan makes device nodes")
                }
            } else if node.path != node.hostPath {
                throw CapstanError(
                    .invalidArgument,
                    "CDI device node \(node.path) (host \(node.hostPath)): a task without an image shares the host's /dev, so a node "
                        + "whose path differs from its host path cannot be made; run the task from an image")
            }
            launch.deviceNodes.append(spec)
        }
        for mount in plan.mounts {
            guard let bind = mount.bindMountSpec else {
                throw CapstanError(
                    .unsupported, "CDI mount of type \(mount.type) at \(mount.destination) is not a bind mount; Capstan applies bind mounts only")
            }
            launch.mounts.append(bind)
        }
        launch.environment = plan.environment
        launch.additionalGids = plan.additionalGids.filter { $0 != 0 }
        launchHooks = launch
        hooks = plan.hooks
    }
}

extension CDIDevicePlan {
    /// `node` as the launch makes and allows it (kind, the access of its cgroup rule, mode, owner); nil for a FIFO,
    /// which no launcher makes and no device rule covers.
    public func deviceNodeSpec(_ node: CDIPlannedDeviceNode) -> DeviceNodeSpec? {
        guard let letter = node.type.cgroupLetter, let kind = DeviceKind(rawValue: letter) else { return nil }
        let rule = cgroupRules.first { $0.type == letter && $0.major == node.major && $0.minor == node.minor }
        return DeviceNodeSpec(
            path: node.path, kind: kind, major: Int(node.major), minor: Int(node.minor),
            access: rule.flatMap { DeviceAccess(letters: $0.access) } ?? [], fileMode: node.fileMode, uid: node.uid, gid: node.gid)
    }

    /// ``env`` as variables laid over the task's (an entry without `=` is left out; a later one wins).
    public var environment: [String: String] {
        var variables: [String: String] = [:]
        for entry in env {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            variables[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        return variables
    }
}

extension CDIPlannedMount {
    /// The bind mount the launch makes (`ro` makes it read-only); nil for any other mount type.
    public var bindMountSpec: BindMountSpec? {
        isBind ? BindMountSpec(source: source, target: destination, readOnly: isReadOnly) : nil
    }
}

extension CDIRegistry {
    /// Checks that this registry defines every device of `names`.
    /// - Throws: `notFound` naming the first unknown device and listing the devices this agent has (or saying it has
    ///   none); `conflict` for a device two specs of one directory define.
    public func checkRequested(_ names: [CDIDeviceName]) throws {
        let known = deviceNames
        for name in names {
            if known.contains(name) {
                _ = try device(name)
                continue
            }
            let listing = known.isEmpty
                ? "this agent has no CDI devices (specs read from \(directories.isEmpty ? "no directory" : directories.joined(separator: ", ")))"
                : "this agent's CDI devices are \(known.map(\.description).joined(separator: ", "))"
            throw CapstanError(.notFound, "unknown CDI device \(name): \(listing)")
        }
    }
}
