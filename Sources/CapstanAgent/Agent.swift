import CapstanAPI
import CapstanAuth
import CapstanCore
import CapstanContainerizer
import Foundation
import Logging

/// The agent: runs tasks the master sends through its containerizer, turns what happens to them into status
/// updates, serves the executor API to custom executors, and checkpoints what it runs.
public actor Agent {
    let configuration: AgentConfiguration
    let logger: Logger
    /// Runs every container of this agent: command tasks, custom executors and tasks from images (whose images it
    /// provisions), all through the same isolators.
    let containerizer: Containerizer
    /// The isolators applied to every container, and those this machine cannot offer (GET_FLAGS reports both).
    let isolation: IsolatorSet
    /// The `network/cni` isolator among them, when the agent has CNI networks.
    let networkIsolator: CNINetworkIsolator?
    /// The agent's checkpoint writer (its status update manager's): writes leave the actor for the blocking pool.
    let checkpoints: OrderedCheckpointWriter
    let statusUpdates: StatusUpdateManager
    /// Sends messages to the master (executor MESSAGE relays; status updates go through `statusUpdates`).
    let messenger: any MasterMessenger

    public internal(set) var agentID: AgentID?
    /// The CNI networks advertised at the last registration.
    var networkNames: [String] = []
    /// Reservations and persistent volumes the master made here (`meta/resources.json`).
    var checkpointedResources = Resources()
    var masterID: MasterID?
    var frameworks: [FrameworkID: AgentFrameworkRecord] = [:]
    var completedFrameworks: [AgentFrameworkRecord] = []
    /// Set by ``destroyAll()``: the agent is stopping and killing its tasks, so it starts no new one (a task the
    /// master sends after the sweep began would otherwise outlive the agent).
    var isStopping = false
    let startedAt = Date().timeIntervalSince1970

    /// The key of the executors' tokens (``ExecutorToken``), kept in the work dir so recovered executors keep theirs.
    nonisolated let executorTokenKey: [UInt8]

    public init(
        configuration: AgentConfiguration, containerizer: Containerizer, isolation: IsolatorSet,
        statusUpdates: StatusUpdateManager,
        logger: Logger, executorTokenKey: [UInt8] = [], messenger: any MasterMessenger
    ) {
        self.executorTokenKey = executorTokenKey
        self.configuration = configuration
        self.listenAddress = configuration.listen
        self.containerizer = containerizer
        self.isolation = isolation
        self.networkIsolator = isolation.isolators.lazy.compactMap { $0 as? CNINetworkIsolator }.first
        self.statusUpdates = statusUpdates
        self.logger = logger
        self.checkpoints = statusUpdates.checkpoints
        self.messenger = messenger
    }

    /// Where the HTTP server listens: `--listen` until it binds, then the bound address (the kernel's port when
    /// `--listen` named port 0).
    public private(set) var listenAddress: HostPort

    /// The address executors and the master use to reach this agent.
    var endpoint: HostPort { configuration.advertise ?? listenAddress }

    /// The HTTP server listens on `bound`; registration and executors use it from now on.
    public func listening(at bound: HostPort) {
        listenAddress = bound
    }

    /// The AgentInfo sent at registration and to executors: the configured attributes, `cni_networks` naming the
    /// CNI networks the agent has (as of its last registration), so that networked tasks are placed where their
    /// network is, and `cdi_devices` naming the devices its CDI specs define.
    var agentInfo: AgentInfo {
        var attributes = configuration.attributes.filter { $0.name != AgentAttribute.cniNetworks && $0.name != AgentAttribute.cdiDevices }
        if !networkNames.isEmpty { attributes.append(Attribute(name: AgentAttribute.cniNetworks, value: .text(networkNames.joined(separator: ",")))) }
        let devices = configuration.cdi.deviceNames
        if !devices.isEmpty {
            attributes.append(Attribute(name: AgentAttribute.cdiDevices, value: .text(devices.map(\.description).joined(separator: ","))))
        }
        return AgentInfo(
            hostname: configuration.hostname, port: Int32(endpoint.port),
            resources: Self.total(configured: configuration.resources, checkpointed: checkpointedResources).mesos,
            attributes: attributes.map(MesosAttribute.init), id: agentID)
    }

    // MARK: Lookup

    func executor(_ frameworkID: FrameworkID, _ executorID: ExecutorID) -> ExecutorRecord? {
        frameworks[frameworkID]?.executors[executorID]
    }

    func modifyExecutor(_ frameworkID: FrameworkID, _ executorID: ExecutorID, _ body: (inout ExecutorRecord) -> Void) {
        guard var record = frameworks[frameworkID]?.executors[executorID] else { return }
        body(&record)
        frameworks[frameworkID]?.executors[executorID] = record
    }

    /// The executor running (or queueing) a task.
    func executorID(of taskID: TaskID, in frameworkID: FrameworkID) -> ExecutorID? {
        frameworks[frameworkID]?.executors.first { $0.value.tasks[taskID] != nil || $0.value.queued[taskID] != nil }?.key
    }

    /// All live tasks, for re-registration and the operator API.
    var liveTasks: [AgentTaskRecord] {
        frameworks.values.flatMap { $0.executors.values.flatMap { Array($0.tasks.values) + Array($0.queued.values) } }
    }

    // MARK: Status updates

    /// Records a new state for a task and hands the update to the status update manager.
    func emit(
        _ frameworkID: FrameworkID, _ taskID: TaskID, _ state: TaskState, message: String? = nil,
        reason: TaskStatus.Reason? = nil, source: TaskStatus.Source = .sourceExecutor, limitation: TaskResourceLimitation? = nil
    ) async {
        guard let executorID = executorID(of: taskID, in: frameworkID), let executor = executor(frameworkID, executorID) else {
            return
        }
        let status = TaskStatus(
            taskID: taskID, state: state, message: message, source: source, reason: reason, agentID: agentID,
            executorID: executorID, timestamp: Date().timeIntervalSince1970, uuid: Base64Bytes(Self.newUUID()),
            labels: gpuLabels(executor.containerID),
            containerStatus: ContainerStatus(containerID: executor.containerID, networkInfos: executor.networkInfos), limitation: limitation)
        await record(status, frameworkID: frameworkID, executorID: executorID)
    }

    /// Applies an update (from the agent or an executor) to the task and forwards it through the manager.
    func record(_ status: TaskStatus, frameworkID: FrameworkID, executorID: ExecutorID) async {
        var stored = status
        stored.data = nil
        modifyExecutor(frameworkID, executorID) { executor in
            if var task = executor.tasks[status.taskID] ?? executor.queued[status.taskID] {
                task.state = status.state
                task.statuses.append(stored)
                if task.statuses.count > 8 { task.statuses.removeFirst(task.statuses.count - 8) }
                executor.queued.removeValue(forKey: status.taskID)
                executor.tasks[status.taskID] = task
            }
        }
        checkpointTask(frameworkID, executorID, status.taskID)
        logger.info(
            "Task state changed",
            metadata: ["framework_id": "\(frameworkID)", "task_id": "\(status.taskID)", "state": "\(status.state.rawValue)"])
        await statusUpdates.update(status, frameworkID: frameworkID)
    }

    func checkpointTask(_ frameworkID: FrameworkID, _ executorID: ExecutorID, _ taskID: TaskID) {
        guard let executor = executor(frameworkID, executorID),
            let task = executor.tasks[taskID] ?? executor.queued[taskID]
        else { return }
        let checkpoint = TaskCheckpoint(
            task: task.info, frameworkID: frameworkID, executorID: executorID, containerID: executor.containerID,
            state: task.state, pid: executor.state.pid)
        checkpoints.submit(checkpoint, to: CheckpointStore.taskPath(frameworkID, taskID) + "/task.json")
    }

    static func newUUID() -> [UInt8] {
        let uuid = UUID().uuid
        return [
            uuid.0, uuid.1, uuid.2, uuid.3, uuid.4, uuid.5, uuid.6, uuid.7,
            uuid.8, uuid.9, uuid.10, uuid.11, uuid.12, uuid.13, uuid.14, uuid.15,
        ]
    }
}
