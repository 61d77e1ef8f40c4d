public import CapstanCore
import Foundation
import Glibc
public import Logging

/// Runs containers on an agent: drives the isolators' phases around a ``Launcher`` and keeps each container's
/// termination for its waiters.
///
/// A container that names an image gets its root filesystem from the provisioner first. The launcher is then chosen
/// per container: one without a root filesystem (``ContainerConfig/rootfs`` is `nil`) runs
/// through `launcher` (the agent's ``PosixLauncher``), one with a root filesystem through `rootfsLauncher` (the
/// ``LinuxLauncher``). Every container goes through the same isolators, whichever launcher starts it.
///
/// A container is *live* from ``launch(_:)`` until its termination is known; then it is *finished*, and
/// ``wait(_:)`` and ``destroy(_:gracePeriod:)`` keep answering with the same termination for the most recent
/// `finishedHistory` containers. A container ends when its first process ends, whether by itself, through
/// ``destroy(_:gracePeriod:)``, or because an isolator's `watch` reported a limitation.
///
/// The agent must not call ``launch(_:)`` before ``recover(_:)`` has returned, when it recovers.
public actor Containerizer {
    /// Starts containers without a root filesystem, and every container when `rootfsLauncher` is `nil`.
    let launcher: any Launcher
    /// Starts containers with a root filesystem.
    let rootfsLauncher: (any Launcher)?
    /// Resolves the images containers name to root filesystems; `nil`: containers that name an image fail to launch.
    let provisioner: (any Provisioner)?
    let isolators: [any Isolator]
    let logger: Logger
    let clock: any Clock<Duration>
    /// Where each launched container is checkpointed for ``recover(knownContainers:)``; `nil`: nowhere.
    let checkpointDirectory: String?
    private let finishedHistory: Int

    var live: [ContainerID: LiveContainer] = [:]
    /// Set by ``refuseLaunches()``: the owner is stopping and destroying every container.
    var refusesLaunches = false
    private var finished: [ContainerID: ContainerTermination] = [:]
    private var finishedOrder: [ContainerID] = []
    private var waiters: [ContainerID: [UInt64: CheckedContinuation<ContainerTermination, any Error>]] = [:]
    private var nextWaiter: UInt64 = 0

    /// Creates a containerizer.
    /// - Parameters:
    ///   - launcher: starts the first process of containers without a root filesystem (``PosixLauncher``), and of
    ///     every container when `rootfsLauncher` is `nil`.
    ///   - rootfsLauncher: starts the first process of containers with a root filesystem (``LinuxLauncher``).
    ///   - provisioner: resolves a container's ``ContainerConfig/image`` to its root filesystem at launch, and
    ///     releases the image's layers when the container is cleaned up.
    ///   - isolators: applied in this order (`cleanup` in reverse), to every container.
    ///   - logger: e.g. label `capstan.agent.containerizer`; entries carry `container_id`.
    ///   - clock: times destroy's grace period.
    ///   - finishedHistory: how many finished containers keep answering `wait` and `destroy`.
    ///   - checkpointDirectory: where running containers are checkpointed (one JSON file each), so that a restarted
    ///     agent finds them with ``recover(knownContainers:)``; `nil` keeps nothing.
    public init(
        launcher: any Launcher, rootfsLauncher: (any Launcher)? = nil, provisioner: (any Provisioner)? = nil,
        isolators: [any Isolator], logger: Logger,
        clock: any Clock<Duration> = ContinuousClock(), finishedHistory: Int = 1024, checkpointDirectory: String? = nil
    ) {
        self.launcher = launcher
        self.rootfsLauncher = rootfsLauncher
        self.provisioner = provisioner
        self.isolators = isolators
        self.logger = logger
        self.clock = clock
        self.checkpointDirectory = checkpointDirectory
        self.finishedHistory = max(finishedHistory, 1)
    }

    // MARK: Launchers

    /// The launcher of a container: `rootfsLauncher` for one with a root filesystem (when there is one), else `launcher`.
    func launcher(for config: ContainerConfig) -> any Launcher {
        config.rootfs != nil || config.linuxLauncherNeed != nil ? (rootfsLauncher ?? launcher) : launcher
    }

    /// The launcher of a live container; `launcher` for an unknown one.
    func launcher(of id: ContainerID) -> any Launcher {
        live[id].map { launcher(for: $0.config) } ?? launcher
    }

    /// Every distinct launcher.
    var launchers: [any Launcher] {
        [launcher] + (rootfsLauncher.map { [$0] } ?? [])
    }

    /// From now on every `launch` fails (`unavailable`): the owner is about to destroy every container, and one
    /// launched after that sweep would outlive it.
    public func refuseLaunches() {
        refusesLaunches = true
    }

    // MARK: Queries

    /// The live containers (launching, running, or being cleaned up), sorted.
    public func containers() -> [ContainerID] {
        live.keys.sorted()
    }

    /// The pid of a live container's first process, once it exists.
    public func pid(of id: ContainerID) -> Int32? {
        live[id]?.process?.pid
    }

    /// The configuration a live container was launched (or recovered) with.
    public func config(of id: ContainerID) -> ContainerConfig? {
        live[id]?.config
    }

    /// The first process of a live container, once it exists; checkpoint it to pass to ``recover(_:)``.
    public func process(of id: ContainerID) -> LaunchedProcess? {
        live[id]?.process
    }

    /// A usage sample: the launcher's measurements with each isolator's non-`nil` fields laid over them.
    /// - Throws: `notFound` when the container is not running; isolators' errors.
    /// The networks a container is attached to, with its addresses on each.
    public func networks(of id: ContainerID) async -> [ContainerNetworkStatus] {
        var all: [ContainerNetworkStatus] = []
        for isolator in isolators { all += await isolator.networks(of: id) }
        return all
    }

    public func usage(_ id: ContainerID) async throws -> ResourceStatistics {
        guard let container = live[id], let process = container.process else {
            throw CapstanError(.notFound, "Failed to get usage: container '\(id)' is not running")
        }
        var sample = ResourceStatistics(timestamp: Date().timeIntervalSince1970)
        if let measured = try await launcher(for: container.config).usage(process) { sample = sample.overlaid(with: measured) }
        for isolator in isolators {
            if let measured = try await isolator.usage(id) { sample = sample.overlaid(with: measured) }
        }
        return sample
    }

    // MARK: Waiting

    /// Waits for the container to end. Any number of callers may wait; all get the same termination.
    /// - Throws: `notFound` for a container that is neither live nor recently finished;
    ///   `CancellationError` when the waiting task is cancelled.
    public func wait(_ id: ContainerID) async throws -> ContainerTermination {
        if let termination = finished[id] { return termination }
        guard live[id] != nil else {
            throw CapstanError(.notFound, "Failed to wait: container '\(id)' is not known")
        }
        let token = nextWaiter
        nextWaiter += 1
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters[id, default: [:]][token] = continuation
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id, token) }
        }
    }

    private func cancelWaiter(_ id: ContainerID, _ token: UInt64) {
        waiters[id]?.removeValue(forKey: token)?.resume(throwing: CancellationError())
    }

    /// Records the termination of a live container, forgets it, and wakes its waiters.
    func finish(_ id: ContainerID, _ termination: ContainerTermination) {
        if let container = live.removeValue(forKey: id) {
            container.watchTasks.forEach { $0.cancel() }
            container.escalation?.cancel()
        }
        removeCheckpoint(id)
        finished[id] = termination
        finishedOrder.removeAll { $0 == id }
        finishedOrder.append(id)
        while finishedOrder.count > finishedHistory { finished[finishedOrder.removeFirst()] = nil }
        for continuation in (waiters.removeValue(forKey: id) ?? [:]).values { continuation.resume(returning: termination) }
    }

    /// The recorded termination of a finished container.
    func finishedTermination(_ id: ContainerID) -> ContainerTermination? {
        finished[id]
    }

    /// Forgets a finished container (so it may be launched again).
    func forgetFinished(_ id: ContainerID) {
        finished[id] = nil
        finishedOrder.removeAll { $0 == id }
    }

    /// A logger whose entries carry the container's id.
    func logger(for id: ContainerID) -> Logger {
        var logger = self.logger
        logger[metadataKey: "container_id"] = "\(id)"
        return logger
    }
}

/// What the containerizer knows of one live container.
struct LiveContainer {
    /// Where a live container is in its life.
    enum Phase {
        /// Isolators prepare, the launcher starts the process, isolators isolate it, the launcher resumes it.
        case launching
        /// The task runs.
        case running
        /// The first process has ended; isolators clean up.
        case exiting
    }

    var config: ContainerConfig
    var phase: Phase = .launching
    /// Set once the launcher has started the first process.
    var process: LaunchedProcess?
    /// The launcher's `wait`, started as soon as the process exists.
    var exit: Task<ContainerTermination, Never>?
    /// A caller asked for destruction.
    var destroyRequested = false
    /// An isolator's limitation ended the container.
    var limitation: ContainerLimitation?
    /// Each isolator's `watch`; a task's value is the limitation its isolator reported, even after cancellation.
    var watchTasks: [Task<ContainerLimitation?, Never>] = []
    /// Sends SIGKILL when destroy's grace period has passed.
    var escalation: Task<Void, Never>?
}
