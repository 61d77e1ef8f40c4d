public import CapstanCore

/// The first process of a container, as a ``Launcher`` started it. Checkpoint it to recover the container later.
public struct LaunchedProcess: Sendable, Hashable, Codable {
    /// The process id in the agent's pid namespace; it also names the container's process group and session.
    public var pid: Int32
    /// When it was started, in seconds since the Unix epoch.
    public var startedAt: Double
    /// The kernel's start time of `pid` (clock ticks since boot, field 22 of `/proc/<pid>/stat`).
    /// Recovery compares it to tell the process from a later one that reused its pid; `nil` when unknown.
    public var startTicks: UInt64?

    /// Creates a process record.
    public init(pid: Int32, startedAt: Double, startTicks: UInt64? = nil) {
        self.pid = pid
        self.startedAt = startedAt
        self.startTicks = startTicks
    }
}

/// Additions to a launch contributed by isolators' `prepare`.
public struct LaunchHooks: Sendable, Hashable, Codable {
    /// Variables laid over the command's environment; on a clash the hook wins, and later isolators win over earlier ones.
    public var environment: [String: String] = [:]
    /// Files or directories bind-mounted into the container after the config's own mounts (the network isolator's
    /// `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf`).
    public var mounts: [BindMountSpec] = []
    /// GPUs assigned to the container (the `gpu/nvidia` isolator's), kept in its configuration and checkpoint.
    public var gpus: [GPUDevice] = []
    /// Device nodes for the container's own `/dev` (image containers).
    public var deviceNodes: [DeviceNodeSpec] = []
    /// Supplementary groups for the task's process (CDI `additionalGids`), kept in its configuration.
    public var additionalGids: [UInt32] = []

    /// Creates hooks.
    public init(environment: [String: String] = [:], mounts: [BindMountSpec] = []) {
        self.environment = environment
        self.mounts = mounts
    }
}

/// Starts, signals, waits for and recovers the first process of a container.
///
/// ``PosixLauncher`` starts a plain process in its own session; a Linux launcher starts `capstan-init`,
/// which sets up namespaces and stays as the container's monitor. The ``Containerizer`` drives a launcher so:
///
/// ```
///   start: process exists ──▶ started(process) ──▶ place(each held pid) ──▶ task executes ──▶ … ──▶ wait returns
///                                   │                                                              │
///                                   └──────── on any failure: signal(SIGKILL), then wait ◀─────────┘
///   recover (once, at agent start, before any launch) ──▶ wait / signal / usage on what it returned
/// ```
///
/// Contract:
/// - `start` holds every process of the container before the task executes (both launchers here can), hands each
///   to `place` (the isolators' placement), and only then lets the task run: the task starts inside its cgroups.
/// - `wait` is called exactly once per process, right after `start` handed it to `started` or `recover` returned it. It does its
///   blocking on a dedicated thread, never on the cooperative pool. It returns when the first process has ended,
///   after the launcher has killed every other process of the container: a container never outlives its first process.
/// - `signal` may be called any number of times until `wait` has returned; afterwards it throws `notFound`.
/// - Errors are ``CapstanError``s whose message is one sentence naming the failed step and the errno.
public protocol Launcher: Sendable {
    /// Starts the container's first process and lets it execute the task once `place` has put each process of the
    /// container where the isolators want it (its cgroups). `started` learns the first process as soon as it exists,
    /// before placement, so that the caller can checkpoint it and begin to `wait`.
    /// - Throws: ``CapstanError`` naming the failed step, e.g.
    ///   `Failed to launch: execve '/nope': No such file or directory (errno 2)`. When `place` fails because the
    ///   container already failed on its own, the container's own failed step is thrown (`resolve user: …`), not the
    ///   cgroup write's. Once `started` was called, the caller still `wait`s for the process (it ends by itself or
    ///   is killed).
    func start(
        _ config: ContainerConfig, hooks: LaunchHooks,
        started: @Sendable (LaunchedProcess) async throws -> Void,
        place: @Sendable (Int32) async throws -> Void
    ) async throws -> LaunchedProcess

    /// Sends `signal` to every process of the container (its process group and session).
    /// - Throws: `notFound` once the process has been collected by `wait`; other failures name `kill` and the errno.
    func signal(_ process: LaunchedProcess, _ signal: Int32) throws

    /// Waits until the container's first process has ended and reports how. Call exactly once per process.
    /// `killed` and `limitation` are left for the ``Containerizer`` to fill in.
    func wait(_ process: LaunchedProcess) async -> ContainerTermination

    /// Resource usage measured by the launcher itself (e.g. from `/proc`), or `nil` when it has none
    /// (e.g. when cgroup isolators measure instead).
    func usage(_ process: LaunchedProcess) async throws -> ResourceStatistics?

    /// A process inside every namespace of the container, to enter them: a launcher that gives containers namespaces
    /// of their own answers its PID 1; one that does not, the first process. `nil` when it is gone.
    func namespaceProcess(of process: LaunchedProcess) async -> Int32?

    /// Finds which checkpointed containers still run, after an agent restart.
    ///
    /// Called once, before any `launch`. Returns the processes found alive (same pid and, when checkpointed,
    /// same `startTicks`), keyed by container; containers not in the result are gone. The launcher takes the returned
    /// processes over: `wait`, `signal` and `usage` work on them, although their exit status may be unknown
    /// because they are no longer the agent's children.
    func recover(_ states: [ContainerRecoveryState]) async throws -> [ContainerID: LaunchedProcess]

    /// How a checkpointed container found gone by `recover` ended, when the launcher kept its status (the
    /// `exit_status` file of `capstan-init`); `nil` when unknown. Also removes what the launcher kept for it.
    func recoveredTermination(of state: ContainerRecoveryState) async -> ContainerTermination?

    /// Removes the state of containers not in `known` that a launch left behind before the container was
    /// checkpointed (called once, after `recover`); returns their ids so that isolators clean them up too.
    func removeLeftovers(keeping known: Set<ContainerID>) async -> [ContainerID]
}

extension Launcher {
    /// The first process itself: the container shares its namespaces.
    public func namespaceProcess(of process: LaunchedProcess) async -> Int32? { process.pid }

    /// Keeps nothing: the status of a container gone at recovery is unknown.
    public func recoveredTermination(of state: ContainerRecoveryState) async -> ContainerTermination? { nil }

    /// Keeps no per-container state: nothing is left behind.
    public func removeLeftovers(keeping known: Set<ContainerID>) async -> [ContainerID] { [] }
}
