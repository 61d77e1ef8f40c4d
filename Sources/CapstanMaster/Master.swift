import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanHTTP
import Foundation
import Logging

/// The master: registry of agents, frameworks, tasks and offers, and the allocator that turns free
/// resources into offers. All mutable state lives in this actor; HTTP handlers and timers call into it.
public actor Master {
    public let id: MasterID
    let configuration: MasterConfiguration
    let logger: Logger
    let agentLink: any AgentMessenger
    let startedAt: Double
    let clockOrigin = ContinuousClock.now

    var agents: [AgentID: AgentRecord] = [:]
    var frameworks: [FrameworkID: FrameworkRecord] = [:]
    var completedFrameworks: [FrameworkRecord] = []
    var offers: [OfferID: OfferRecord] = [:]
    var allocator: DRFAllocator
    var operatorSubscribers: [UUID: StreamSubscriber<OperatorEvent>] = [:]
    var nextAgentNumber = 0
    var nextFrameworkNumber = 0
    var nextOfferNumber = 0
    /// Set when something changed that may produce offers (a framework arrived, resources came back, a revive);
    /// the allocation loop runs a cycle soon after instead of waiting for the full interval.
    var allocationPending = false
    var lastAllocation = ContinuousClock.now
    /// ACKNOWLEDGEs for agents that have not (re-)registered yet, e.g. right after a master restart.
    var heldAcknowledgements = HeldAcknowledgements()
    /// The maintenance schedule and machines in maintenance, and the inverse offers out for them (Master+Maintenance).
    var maintenance = MaintenanceState()
    var inverseOffers = InverseOfferBook()
    /// Frameworks already told in the log that agents are withheld from them (Master+Withholding).
    var withholdingLogged: Set<FrameworkID> = []
    /// The address the master advertises (MasterInfo, `/state`): `--listen` until the server binds, then the bound
    /// address, so a master on port 0 names the port the kernel gave it.
    public private(set) var address: HostPort

    /// Admitted agents of the registry that have not re-registered since this master started; removed at
    /// `recoveryDeadline`.
    var recoveringAgents: [AgentID: RegisteredAgent] = [:]
    /// Agents of the registry removed because they did not come back in time.
    var removedAgents: Set<AgentID> = []
    var recoveryDeadline: ContinuousClock.Instant
    /// Where registry changes go (nil: nothing is kept across restarts).
    var registry: RegistryWriter?
    /// Whether an operator change the registry keeps is under way, and the changes waiting for it
    /// (Master+DurableChanges).
    var changeInProgress = false
    var changeWaiters: [CheckedContinuation<Void, Never>] = []

    init(
        configuration: MasterConfiguration, agentLink: any AgentMessenger, logger: Logger, registry: RegistryWriter? = nil,
        recovered: RegistryContents = RegistryContents()
    ) {
        self.configuration = configuration
        self.logger = logger
        self.agentLink = agentLink
        self.address = configuration.listen
        let now = Date().timeIntervalSince1970
        self.startedAt = now
        self.id = MasterID(UUID().uuidString.lowercased())
        self.allocator = DRFAllocator(config: AllocatorConfig(roleWeights: configuration.roleWeights))
        self.registry = registry
        self.recoveryDeadline = .now + configuration.agentReregisterTimeout
        recoveringAgents = recovered.agents
        for record in Self.recoveredFrameworks(recovered, configuration: configuration) {
            frameworks[record.id] = record
            allocator.addFramework(record.id, role: record.role, active: false, acceptsGPUs: record.acceptsGPUs)
        }
        Self.restoreSettings(recovered, allocator: &allocator, maintenance: &maintenance, configuration: configuration, logger: logger)
        Self.logRecovery(recovered, configuration: configuration, logger: logger)
    }

    /// An elected master takes over the registry it won: writes go to `registry` from now on, and what it held is
    /// recovered as at a restart (agents have the re-registration timeout to come back, from now).
    func adopt(registry: RegistryWriter, recovered: RegistryContents) {
        self.registry = registry
        recoveryDeadline = .now + configuration.agentReregisterTimeout
        recoveringAgents = recovered.agents
        for record in Self.recoveredFrameworks(recovered, configuration: configuration) where frameworks[record.id] == nil {
            frameworks[record.id] = record
            allocator.addFramework(record.id, role: record.role, active: false, acceptsGPUs: record.acceptsGPUs)
        }
        Self.restoreSettings(recovered, allocator: &allocator, maintenance: &maintenance, configuration: configuration, logger: logger)
        Self.logRecovery(recovered, configuration: configuration, logger: logger)
        requestAllocation()
    }

    /// The registry's frameworks, known again but disconnected: only their principal may resume an ID. Each has its
    /// failover timeout (at least the agents' re-registration window) to come back before its tasks are killed.
    private static func recoveredFrameworks(_ recovered: RegistryContents, configuration: MasterConfiguration) -> [FrameworkRecord] {
        let now = Date().timeIntervalSince1970
        return recovered.frameworks.map { frameworkID, registered in
            var record = FrameworkRecord(id: frameworkID, info: registered.info, connection: nil, registeredAt: now)
            record.recovered = true
            record.unregisteredAt = now
            record.principal = registered.principal
            let timeout = max(min(registered.info.failoverTimeout ?? 0, 1e9), configuration.agentReregisterTimeout.seconds)
            record.failoverDeadline = .now + .nanoseconds(Int64(timeout * 1e9))
            return record
        }
    }

    private static func logRecovery(_ recovered: RegistryContents, configuration: MasterConfiguration, logger: Logger) {
        guard !recovered.agents.isEmpty || !recovered.frameworks.isEmpty else { return }
        logger.info(
            "Recovered the registry: agents have until the re-registration timeout to come back",
            metadata: [
                "agents": "\(recovered.agents.count)", "frameworks": "\(recovered.frameworks.count)",
                "agent_reregister_timeout": "\(configuration.agentReregisterTimeout)",
            ])
    }

    /// A master without a registry (tests, and the in-process masters of benchmarks).
    public init(configuration: MasterConfiguration, agentLink: any AgentMessenger, logger: Logger) {
        self.init(configuration: configuration, agentLink: agentLink, logger: logger, registry: nil)
    }

    /// Seconds since the master started, on the monotonic clock: the allocator's time base.
    var monotonicNow: Double { (ContinuousClock.now - clockOrigin).seconds }
    var wallNow: Double { Date().timeIntervalSince1970 }

    func requestAllocation() { allocationPending = true }

    /// The HTTP server listens on `bound` (the kernel's port when `--listen` named port 0).
    public func listening(at bound: HostPort) {
        address = bound
    }

    /// Runs an allocation cycle if one was requested or the allocation interval passed.
    func allocateIfDue() {
        let now = ContinuousClock.now
        guard allocationPending || now - lastAllocation >= configuration.allocationInterval else { return }
        allocationPending = false
        lastAllocation = now
        allocate()
    }

    /// Periodic housekeeping: agent health, framework failover timeouts, offer timeouts.
    func housekeeping() {
        checkAgentHealth()
        expireRecoveringAgents()
        expireFrameworks()
        expireOffers()
        sendInverseOffers()
    }

    /// Ends every scheduler and operator stream (shutdown).
    func closeStreams() {
        for framework in frameworks.values { framework.connection?.continuation.finish() }
        for continuation in operatorSubscribers.values { continuation.finish() }
        operatorSubscribers.removeAll()
    }

    /// The MasterInfo every subscriber sees.
    public var masterInfo: MasterInfo {
        MasterInfo(
            id: id.value, ip: 0, port: UInt32(address.port),
            pid: "master@\(address)", hostname: configuration.hostname,
            version: VersionInfoText.mesosAPIVersion,
            address: Address(hostname: configuration.hostname, ip: address.host, port: Int32(address.port)))
    }

    // MARK: ID generation

    func makeAgentID() -> AgentID {
        defer { nextAgentNumber += 1 }
        return AgentID("\(id.value)-S\(nextAgentNumber)")
    }

    func makeFrameworkID() -> FrameworkID {
        defer { nextFrameworkNumber += 1 }
        return FrameworkID("\(id.value)-\(String(format: "%04d", nextFrameworkNumber))")
    }

    func makeOfferID() -> OfferID {
        defer { nextOfferNumber += 1 }
        return OfferID("\(id.value)-O\(nextOfferNumber)")
    }

    // MARK: Event delivery

    /// Sends an event to a framework's stream if it is connected; events to a disconnected framework are dropped
    /// (status updates are retried by the agent until acknowledged).
    func send(_ event: SchedulerEvent, to frameworkID: FrameworkID) {
        guard let connection = frameworks[frameworkID]?.connection else { return }
        if !connection.continuation.yield(event) { dropIfOverflowed(frameworkID, connection) }
    }

    /// A scheduler whose stream fell more than its bound behind was cut off (its connection is being closed): it is
    /// disconnected as when its stream closes (offers rescinded, failover timeout started). Done as a job of its
    /// own, since `send` runs in the middle of changes to the framework's record.
    func dropIfOverflowed(_ frameworkID: FrameworkID, _ connection: SchedulerConnection) {
        guard connection.continuation.overflowed else { return }
        let streamID = connection.streamID
        Task { await self.schedulerOverflowed(frameworkID, streamID: streamID) }
    }

    func schedulerOverflowed(_ frameworkID: FrameworkID, streamID: String) {
        guard let connection = frameworks[frameworkID]?.connection, connection.streamID == streamID else { return }
        logger.warning(
            "Disconnecting a scheduler that stopped reading its event stream",
            metadata: ["framework_id": "\(frameworkID)", "limit_bytes": "\(connection.continuation.limit)"])
        schedulerDisconnected(frameworkID, streamID: streamID)
    }

    /// Publishes an operator event to every operator subscriber.
    func publish(_ event: OperatorEvent) {
        guard !operatorSubscribers.isEmpty, let record = try? StreamSubscriber<OperatorEvent>.record(event) else { return }
        for (key, subscriber) in operatorSubscribers where !subscriber.yield(record: record) {
            dropOperatorSubscriber(key, subscriber)
        }
    }

    /// Forgets an operator subscriber whose stream ended or overflowed (it stopped reading).
    func dropOperatorSubscriber(_ key: UUID, _ subscriber: StreamSubscriber<OperatorEvent>) {
        if subscriber.overflowed {
            logger.warning(
                "Disconnecting an operator subscriber that stopped reading its event stream",
                metadata: ["limit_bytes": "\(subscriber.limit)"])
        }
        operatorSubscribers.removeValue(forKey: key)
    }

    /// The latest known free resources per agent (reachable agents only), for the reconciler and tests.
    public func freeResources() -> [AgentID: Resources] {
        var result: [AgentID: Resources] = [:]
        for (agentID, agent) in agents where agent.isReachable { result[agentID] = allocator.available(on: agentID) }
        return result
    }
}

/// Version strings shared by the master's endpoints.
enum VersionInfoText {
    static let mesosAPIVersion = "1.0.0"
}
