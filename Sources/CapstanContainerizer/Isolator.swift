public import CapstanCore

/// What the agent checkpointed about a container, handed back at recovery.
public struct ContainerRecoveryState: Sendable, Hashable, Codable {
    /// The container.
    public var containerID: ContainerID
    /// The checkpointed pid of its first process. Isolators get `nil` here when the launcher found the process gone.
    public var pid: Int32?
    /// The configuration it was launched with.
    public var config: ContainerConfig
    /// ``LaunchedProcess/startTicks`` of the first process, when checkpointed; guards against pid reuse.
    public var startTicks: UInt64?

    /// Creates a recovery state.
    public init(containerID: ContainerID, pid: Int32?, config: ContainerConfig, startTicks: UInt64? = nil) {
        self.containerID = containerID
        self.pid = pid
        self.config = config
        self.startTicks = startTicks
    }
}

/// One kind of isolation (cgroups cpu/memory/pids, disk quota, GPUs, network, volumes), applied in phases.
///
/// The ``Containerizer`` calls the phases of one container in this order (after Nomad's task lifecycle hooks):
///
/// ```
///              ┌──────────── failure of any step ───────────┐
///              │                                            ▼
///   prepare ──▶ isolate ──▶ { update | usage }* ──▶ (exit) ──▶ cleanup
///                  │
///                  └──▶ watch  (runs concurrently from after isolate until cleanup; cancelled then)
///
///   recover (once per agent start, before any other phase) ──▶ then as above from `isolate`'s successors
/// ```
///
/// Contract:
/// - Phases of *one* container never overlap, except `watch`, which runs alongside `update` and `usage`.
///   Phases of different containers may run concurrently: implementations are actors or lock their state.
/// - `prepare` is called once per launch, before the process exists. `isolate` is called once, after the
///   process exists and before it executes the task. If either throws, the launch fails: the process (if any) is
///   killed and `cleanup` is called on **every** isolator, including ones whose `prepare` never ran.
/// - `cleanup` is idempotent and must accept containers it has never seen. It is called once the container's
///   processes are gone, and also after a failed launch and for containers found gone at recovery.
/// - `watch` returns a limitation when one is hit; the containerizer then kills the container and reports the
///   limitation in its termination. It may never return, but must return promptly (any value) once its task is cancelled.
/// - `usage` returns only what this isolator measures; `nil` fields (or a `nil` sample) leave others' values.
/// - Errors are ``CapstanError``s naming the step and the failed system call.
public protocol Isolator: Sendable {
    /// A stable name for logs and errors, e.g. `cgroups/mem`.
    var name: String { get }

    /// Readies isolation before the process exists (e.g. creates a cgroup); may contribute environment variables.
    func prepare(_ config: ContainerConfig) async throws -> LaunchHooks?

    /// Puts process `pid` under isolation (e.g. moves it into the cgroup) before it executes the task.
    func isolate(_ id: ContainerID, pid: Int32) async throws

    /// Applies new limits to a running container.
    func update(_ id: ContainerID, limits: ResourceLimits) async throws

    /// Measures the container, or returns `nil` when this isolator measures nothing.
    func usage(_ id: ContainerID) async throws -> ResourceStatistics?

    /// Returns when a limit is hit; may never return; returns promptly when cancelled.
    func watch(_ id: ContainerID) async -> ContainerLimitation?

    /// Removes everything `prepare` and `isolate` created. Idempotent; accepts unknown containers.
    func cleanup(_ id: ContainerID) async throws

    /// Rebuilds in-memory state after an agent restart, before any other phase. `states` holds every checkpointed
    /// container; those with a `nil` pid are gone and will get `cleanup` right after.
    func recover(_ states: [ContainerRecoveryState]) async throws

    /// The networks the container is attached to (the network isolator's; others have none).
    func networks(of id: ContainerID) async -> [ContainerNetworkStatus]
}

extension Isolator {
    public func networks(of id: ContainerID) async -> [ContainerNetworkStatus] { [] }
}

/// An isolator that neither limits nor measures (networks, volumes): no update, no usage, and no limitation to watch
/// for. Isolators with limits implement all three themselves.
public protocol SetupIsolator: Isolator {}

extension SetupIsolator {
    public func update(_ id: ContainerID, limits: ResourceLimits) async throws {}

    public func usage(_ id: ContainerID) async throws -> ResourceStatistics? { nil }

    public func watch(_ id: ContainerID) async -> ContainerLimitation? {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        return nil
    }
}
