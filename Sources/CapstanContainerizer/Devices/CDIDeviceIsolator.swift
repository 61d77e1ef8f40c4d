public import CapstanCore
import CapstanLinux
import Foundation
public import Logging
import Synchronization

/// `devices/cdi`: applies the CDI devices a container asks for — those its task names (``ContainerConfig/cdiDevices``)
/// and those its image's `cdi.k8s.io/…` labels name — from the agent's ``CDIRegistry``.
///
/// `prepare` resolves the names (an unknown one fails the launch, naming it and listing the agent's devices), plans
/// them (``CDIDevicePlan``) and contributes, through ``CDILaunchEdits``, their device nodes (made by `capstan-init`
/// and allowed by `cgroups/devices`, which must run after this isolator), bind mounts, environment and supplementary
/// groups. A container asking for CDI devices always runs under the Linux launcher (`capstan-init`).
///
/// Hooks, and how they differ from an OCI runtime's (Capstan has no OCI bundle and no create/start split):
/// - `prestart`, `createRuntime`, `createContainer`, `startContainer` and `poststart` all run, in that order, in
///   `isolate` of the container's PID 1 (the `isolate` of `capstan-init`'s monitor, which is in the host's
///   namespaces, runs none): after its namespaces exist and before the task is executed. PID 1 may still be
///   assembling the container's root filesystem at that moment, so a hook must not rely on the final root being
///   mounted (OCI runs `createContainer` and `startContainer` after `pivot_root`). Every hook runs in the agent's
///   namespaces, `createContainer` and `startContainer` included (OCI runs those in the container's), and
///   `poststart` runs before the task rather than after it started. A failing hook fails the launch.
/// - `poststop` runs in `cleanup`, once the container's processes are gone (also after a failed launch, and after
///   an agent restart from the recovered configuration); its failures are logged, never thrown.
/// - Each hook gets ``CDIHookState`` on stdin and is run by ``CDIHookRunner`` (its timeout, or 60 seconds).
public final class CDIDeviceIsolator: SetupIsolator, Sendable {
    public let name = "devices/cdi"
    public let registry: CDIRegistry
    private let logger: Logger
    private let isContainerInit: @Sendable (Int32) -> Bool
    private let containers = Mutex<[ContainerID: Entry]>([:])

    struct Entry: Sendable {
        var hooks: [CDIHookStage: [CDIHook]]
        var bundle: String
        var pid: Int32?
        var ran = false
    }

    /// The stages run in `isolate`, in order.
    public static let isolateStages: [CDIHookStage] = [.prestart, .createRuntime, .createContainer, .startContainer, .poststart]

    /// An isolator applying the devices of `registry`.
    /// - Parameter isContainerInit: whether a pid handed to `isolate` is the container's PID 1 (by default: it is PID
    ///   1 of a pid namespace of its own, as its `NSpid` in `/proc/<pid>/status` says).
    public init(registry: CDIRegistry, logger: Logger, isContainerInit: @escaping @Sendable (Int32) -> Bool = CDIDeviceIsolator.isNamespaceInit) {
        self.registry = registry
        self.logger = logger
        self.isContainerInit = isContainerInit
    }

    /// The devices `config` asks for: its own, then those its image's CDI labels add.
    /// - Throws: `invalidArgument` for an image label naming a device that is not fully qualified.
    public static func requestedDevices(_ config: ContainerConfig) throws -> [CDIDeviceName] {
        var names = config.cdiDevices
        for name in try CDIDeviceRequest.fromAnnotations(config.imageConfig?.labels ?? [:]) where !names.contains(name) { names.append(name) }
        return names
    }

    /// The plan for the devices `config` asks for, `nil` when it asks for none.
    public func edits(for config: ContainerConfig, lookup: CDIHostDevice.Lookup = CDIHostDevice.system) throws -> CDILaunchEdits? {
        try edits(for: config, names: try Self.requestedDevices(config), lookup: lookup)
    }

    private func edits(for config: ContainerConfig, names: [CDIDeviceName], lookup: CDIHostDevice.Lookup) throws -> CDILaunchEdits? {
        guard !names.isEmpty else { return nil }
        try registry.checkRequested(names)
        let resolution = try registry.resolve(names.map(\.description))
        return try CDILaunchEdits(CDIDevicePlan(resolution.edits, lookup: lookup), hasRootfs: config.rootfs != nil)
    }

    public func prepare(_ config: ContainerConfig) async throws -> LaunchHooks? {
        let names = try Self.requestedDevices(config)
        guard let edits = try await Blocking.run({ [self] in try self.edits(for: config, names: names, lookup: CDIHostDevice.system) }) else {
            return nil
        }
        let id = config.containerID
        let devices = names.map(\.description).joined(separator: ",")
        containers.withLock { $0[id] = Entry(hooks: edits.hooks, bundle: config.sandboxDirectory) }
        logger.info(
            "devices/cdi: CDI devices applied",
            metadata: [
                "container_id": "\(id)", "devices": "\(devices)",
                "nodes": "\(edits.launchHooks.deviceNodes.map(\.path).joined(separator: ","))",
                "hooks": "\(edits.hooks.values.reduce(0) { $0 + $1.count })",
            ])
        return edits.launchHooks
    }

    public func isolate(_ id: ContainerID, pid: Int32) async throws {
        let hooks: [CDIHook]? = containers.withLock { containers in
            guard var entry = containers[id], !entry.ran, isContainerInit(pid) else { return nil }
            entry.ran = true
            entry.pid = pid
            containers[id] = entry
            return Self.isolateStages.flatMap { entry.hooks[$0] ?? [] }
        }
        guard let hooks, !hooks.isEmpty else { return }
        let state = CDIHookState(id: id.value, status: "created", pid: pid, bundle: containers.withLock { $0[id]?.bundle ?? "" })
        for hook in hooks {
            try await Blocking.run { try CDIHookRunner.run(hook, state: state) }
        }
    }

    public func cleanup(_ id: ContainerID) async throws {
        guard let entry = containers.withLock({ $0.removeValue(forKey: id) }) else { return }
        let state = CDIHookState(id: id.value, status: "stopped", pid: entry.pid, bundle: entry.bundle)
        for hook in entry.hooks[.poststop] ?? [] {
            do { try await Blocking.run { try CDIHookRunner.run(hook, state: state) } } catch {
                logger.error("devices/cdi: a poststop hook failed", metadata: ["container_id": "\(id)", "error": "\(error)"])
            }
        }
    }

    /// Plans the recovered containers' devices again, so that their `poststop` hooks run at cleanup.
    public func recover(_ states: [ContainerRecoveryState]) async throws {
        for state in states {
            do {
                guard let edits = try edits(for: state.config), !(edits.hooks[.poststop] ?? []).isEmpty else { continue }
                containers.withLock {
                    $0[state.containerID] = Entry(hooks: edits.hooks, bundle: state.config.sandboxDirectory, pid: state.pid, ran: true)
                }
            } catch {
                logger.warning(
                    "devices/cdi: a recovered container's CDI devices cannot be planned again; its poststop hooks will not run",
                    metadata: ["container_id": "\(state.containerID)", "error": "\(error)"])
            }
        }
    }

    /// Whether `pid` is PID 1 of a pid namespace below the agent's (the last `NSpid` field is 1).
    public static let isNamespaceInit: @Sendable (Int32) -> Bool = { pid in
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("NSpid:") })
        else { return false }
        let fields = line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" })
        return fields.count > 1 && fields.last == "1"
    }
}
