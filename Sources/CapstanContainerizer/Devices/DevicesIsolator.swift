public import CapstanCore
import CapstanLinux
public import Logging

/// `cgroups/devices`: every container may use only the default devices (``DevicePolicy/containerDefaults``) and the
/// device nodes the isolators before it gave it (``ContainerConfig/deviceNodes``: its GPUs', its CDI devices').
///
/// It must run after every isolator that contributes device nodes: it reads them from the configuration its
/// `prepare` receives. The policy is enforced by a ``DeviceController`` (cgroup v1 or v2); the rules stay in the
/// kernel with the cgroup, so a recovered container keeps them without any work here.
public final class DevicesIsolator: Isolator, Sendable {
    public let name = "cgroups/devices"
    public let controller: any DeviceController
    private let logger: Logger

    /// An isolator enforcing through `controller`.
    public init(controller: any DeviceController, logger: Logger) {
        self.controller = controller
        self.logger = logger
    }

    /// The container's device cgroup.
    public func cgroupPath(of id: ContainerID) -> String { controller.path(of: id) }

    /// The policy a container launched with `config` gets.
    public static func policy(for config: ContainerConfig) -> DevicePolicy {
        var policy = DevicePolicy.containerDefaults
        for node in config.deviceNodes { policy.allow(node.rule) }
        return policy
    }

    public func prepare(_ config: ContainerConfig) async throws -> LaunchHooks? {
        let policy = Self.policy(for: config)
        try await Blocking.run { [controller] in try controller.create(config.containerID, policy: policy) }
        return nil
    }

    public func isolate(_ id: ContainerID, pid: Int32) async throws {
        try await Blocking.run { [controller] in try controller.add(id, pid: pid) }
    }

    public func update(_ id: ContainerID, limits: ResourceLimits) async throws {}

    public func usage(_ id: ContainerID) async throws -> ResourceStatistics? { nil }

    public func watch(_ id: ContainerID) async -> ContainerLimitation? {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        return nil
    }

    public func cleanup(_ id: ContainerID) async throws { try await controller.destroy(id) }

    public func recover(_ states: [ContainerRecoveryState]) async throws {}
}
