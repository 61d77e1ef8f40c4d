import CapstanAPI
import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import CapstanAgent

/// Records what the agent sends the master, instead of POSTing it.
final class RecordingMasterMessenger: MasterMessenger {
    private let updates = Mutex<[StatusUpdateMessage]>([])
    /// Called with each update as it is sent (to look at what is on disk at that moment).
    let observer = Mutex<(@Sendable (StatusUpdateMessage) -> Void)?>(nil)

    func statusUpdate(_ message: StatusUpdateMessage) async throws {
        observer.withLock { $0 }?(message)
        updates.withLock { $0.append(message) }
    }

    func executorMessage(_ message: FrameworkExecutorMessage) async {}

    /// The updates sent so far for `taskID`, oldest first.
    func statuses(of taskID: TaskID) -> [TaskStatus] {
        updates.withLock { $0.map(\.status).filter { $0.taskID == taskID } }
    }
}

/// A gate that tasks wait at until it is opened; waiting ignores cancellation, as waiting on a shared image pull does.
final class Gate: Sendable {
    private struct State {
        var open = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    func wait() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// A provisioner whose "pull" stalls at a gate until the test opens it, then succeeds (an image with no layers, run
/// by ``HostRootfsLauncher``) or fails with `failure`; it records what it provisioned and released.
final class GatedProvisioner: Provisioner {
    let gate = Gate()
    let failure: String?
    private let log = Mutex<(started: [ContainerID], released: [ContainerID])>(([], []))

    init(failure: String? = nil) {
        self.failure = failure
    }

    func provision(_ image: ContainerImage, for id: ContainerID) async throws -> ProvisionedRootfs {
        log.withLock { $0.started.append(id) }
        await gate.wait()
        if let failure { throw CapstanError(.notFound, "cannot provide image \(image.reference): \(failure)") }
        return ProvisionedRootfs(layers: [], process: ImageProcessConfig())
    }

    func release(_ id: ContainerID) async throws {
        log.withLock { $0.released.append(id) }
    }

    /// Containers whose provisioning has begun.
    var started: [ContainerID] { log.withLock { $0.started } }
    /// Containers whose layers were released.
    var released: [ContainerID] { log.withLock { $0.released } }
}

/// Runs containers "from an image" as plain host processes: the rootfs that ``GatedProvisioner`` hands out is dropped
/// and the command runs through the ``PosixLauncher``, so the agent's launch flow is tested without root.
struct HostRootfsLauncher: Launcher {
    let host: PosixLauncher

    func start(
        _ config: ContainerConfig, hooks: LaunchHooks, started: @Sendable (LaunchedProcess) async throws -> Void,
        place: @Sendable (Int32) async throws -> Void
    ) async throws -> LaunchedProcess {
        var config = config
        config.rootfs = nil
        return try await host.start(config, hooks: hooks, started: started, place: place)
    }

    func signal(_ process: LaunchedProcess, _ signal: Int32) throws { try host.signal(process, signal) }
    func wait(_ process: LaunchedProcess) async -> ContainerTermination { await host.wait(process) }
    func usage(_ process: LaunchedProcess) async throws -> CapstanContainerizer.ResourceStatistics? { try await host.usage(process) }
    func recover(_ states: [ContainerRecoveryState]) async throws -> [ContainerID: LaunchedProcess] { try await host.recover(states) }
}

/// An agent actor driven directly: a scratch work dir, a containerizer of plain processes with a gated provisioner,
/// and a recording messenger in place of the master. The agent is registered, so its status updates flow.
struct AgentFixture {
    let agent: Agent
    let messenger: RecordingMasterMessenger
    let provisioner: GatedProvisioner
    let containerizer: Containerizer
    let workDir: String
    let configuration: AgentConfiguration
    static let frameworkID = FrameworkID("framework-1")

    /// Runs `body` with a fresh agent; every container is destroyed and the work dir removed afterwards.
    static func with(
        provisioner: GatedProvisioner = GatedProvisioner(), configure: (inout AgentConfiguration) -> Void = { _ in },
        _ body: (AgentFixture) async throws -> Void
    ) async throws {
        let workDir = NSTemporaryDirectory() + "capstan-agent-\(UUID().uuidString.prefix(8))"
        var configuration = AgentConfiguration(workDir: workDir, resources: try Resources.parse("cpus:2;mem:1024"))
        configure(&configuration)
        let logger = Logger(label: "capstan.agent.test")
        let host = PosixLauncher(logger: logger)
        let containerizer = Containerizer(
            launcher: host, rootfsLauncher: HostRootfsLauncher(host: host), provisioner: provisioner, isolators: [], logger: logger)
        let messenger = RecordingMasterMessenger()
        let statusUpdates = StatusUpdateManager(
            checkpoints: OrderedCheckpointWriter(store: CheckpointStore(workDir: workDir), logger: logger), retryInterval: .seconds(1), retryMax: .seconds(5), logger: logger
        ) { try await messenger.statusUpdate($0) }
        let agent = Agent(
            configuration: configuration, containerizer: containerizer, isolation: IsolatorSet(isolators: [], unavailable: ["cgroups: not used by these tests"]),
            statusUpdates: statusUpdates, logger: logger, messenger: messenger)
        await agent.registered(AgentRegisteredMessage(agentID: AgentID("agent-1"), masterID: MasterID("master-1"), heartbeatIntervalSeconds: 5))
        let fixture = AgentFixture(
            agent: agent, messenger: messenger, provisioner: provisioner, containerizer: containerizer, workDir: workDir,
            configuration: configuration)
        defer { try? FileManager.default.removeItem(atPath: workDir) }
        do {
            try await body(fixture)
        } catch {
            await fixture.tearDown()
            throw error
        }
        await fixture.tearDown()
    }

    private init(
        agent: Agent, messenger: RecordingMasterMessenger, provisioner: GatedProvisioner, containerizer: Containerizer, workDir: String,
        configuration: AgentConfiguration
    ) {
        self.agent = agent
        self.messenger = messenger
        self.provisioner = provisioner
        self.containerizer = containerizer
        self.workDir = workDir
        self.configuration = configuration
    }

    /// Opens the provisioner's gate and destroys every container that is left.
    func tearDown() async {
        provisioner.gate.open()
        await agent.destroyAll()
        for id in await containerizer.containers() { _ = await containerizer.destroy(id, gracePeriod: .zero) }
        await agent.checkpoints.flush()
    }

    static var framework: FrameworkInfo { FrameworkInfo(user: "", name: "agent-test", id: frameworkID) }

    /// A command task running `shell`; with `image`, one "from" that image (provisioned by ``GatedProvisioner``).
    static func task(_ id: String, _ shell: String = "sleep 600", image: String? = nil) -> TaskInfo {
        var task = TestTasks.command(id, shell, agent: AgentID("agent-1"))
        if let image {
            var container = ContainerInfo(type: .mesos)
            container.mesos = .init(image: Image(type: .docker, docker: .init(name: image)))
            task.container = container
        }
        return task
    }

    /// Waits (acknowledging every update on the way, as a framework does) until `taskID` reports `state`; returns it.
    @discardableResult
    func update(_ taskID: String, _ state: TaskState, timeout: Duration = .seconds(30)) async throws -> TaskStatus {
        var acknowledged = 0
        var found: TaskStatus?
        try await eventually("\(taskID) reaching \(state.rawValue) (got \(messenger.statuses(of: TaskID(taskID)).map(\.state.rawValue)))", timeout: timeout) {
            let statuses = messenger.statuses(of: TaskID(taskID))
            for status in statuses.dropFirst(acknowledged) {
                acknowledged += 1
                if let uuid = status.uuid {
                    await agent.acknowledge(AcknowledgeMessage(frameworkID: Self.frameworkID, taskID: status.taskID, uuid: uuid))
                }
                if status.state == state { found = status }
            }
            return found != nil
        }
        return try #require(found)
    }

    /// The executor's state's name (`nil`: no such executor, or it has finished).
    func executorState(_ executorID: String) async -> String? {
        await agent.executor(Self.frameworkID, ExecutorID(executorID))?.state.name
    }
}
