import CapstanAPI
import CapstanAPIClient
import CapstanCore
import Foundation

/// Collects a scheduler's events and lets a test wait for the one it expects.
public actor EventRecorder {
    public private(set) var events: [SchedulerEvent] = []
    private var consumed = 0
    private var reader: Task<Void, Never>?
    public let subscription: SchedulerSubscription

    public init(_ subscription: SchedulerSubscription) {
        self.subscription = subscription
    }

    /// Starts reading the subscription's stream.
    public func start() {
        let events = subscription.events
        reader = Task { [weak self] in
            do {
                for try await event in events { await self?.append(event) }
            } catch {}
        }
    }

    /// Records an event; updates that carry a uuid are acknowledged at once, as a real scheduler does (the agent
    /// sends a task's next update only after the previous one is acknowledged).
    private func append(_ event: SchedulerEvent) async {
        events.append(event)
        guard autoAcknowledge, event.type == .update, let status = event.update?.status, let uuid = status.uuid,
            let agentID = status.agentID
        else { return }
        try? await send(SchedulerCall(type: .acknowledge, acknowledge: .init(agentID: agentID, taskID: status.taskID, uuid: uuid)))
        acknowledged.append(status)
    }

    /// Whether updates are acknowledged as they arrive (on by default).
    public var autoAcknowledge = true
    /// Updates acknowledged so far.
    public private(set) var acknowledged: [TaskStatus] = []

    public func setAutoAcknowledge(_ on: Bool) { autoAcknowledge = on }

    /// Subscribes a framework and starts recording.
    public static func subscribe(
        _ master: HostPort, name: String = "test-framework", role: String = "*", failoverTimeout: Double? = nil,
        id: FrameworkID? = nil, capabilities: [FrameworkInfo.Capability] = [], user: String = "root"
    ) async throws -> EventRecorder {
        var info = FrameworkInfo(user: user, name: name)
        info.role = role
        info.failoverTimeout = failoverTimeout
        info.id = id
        info.capabilities = capabilities
        let subscription = try await SchedulerClient(master: master).subscribe(info)
        let recorder = EventRecorder(subscription)
        await recorder.start()
        return recorder
    }

    public nonisolated var frameworkID: FrameworkID { subscription.frameworkID }

    /// Waits for the next event (after those already taken) that matches; earlier non-matching events are skipped.
    public func next(
        _ what: String = "event", timeout: Duration = .seconds(10), where predicate: (SchedulerEvent) -> Bool
    ) async throws -> SchedulerEvent {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            while consumed < events.count {
                let event = events[consumed]
                consumed += 1
                if predicate(event) { return event }
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("Timed out after \(timeout) waiting for \(what); events so far: \(events.map { $0.type?.rawValue ?? "?" })")
    }

    /// Waits for any matching event among all received so far or to come (does not consume).
    public func any(
        _ what: String = "event", timeout: Duration = .seconds(10), where predicate: (SchedulerEvent) -> Bool
    ) async throws -> SchedulerEvent {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let event = events.first(where: predicate) { return event }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("Timed out after \(timeout) waiting for \(what); events so far: \(events.map { $0.type?.rawValue ?? "?" })")
    }

    /// The next OFFERS event's offers.
    public func nextOffers(timeout: Duration = .seconds(10)) async throws -> [Offer] {
        try await next("OFFERS", timeout: timeout) { $0.type == .offers }.offers?.offers ?? []
    }

    /// The UPDATE for a task with the given state, received already or still to come (acknowledged already when
    /// auto-acknowledge is on). Updates of different tasks may interleave in any order.
    @discardableResult
    public func update(_ taskID: TaskID, _ state: TaskState, timeout: Duration = .seconds(10)) async throws -> TaskStatus {
        let event = try await any("\(state.rawValue) for \(taskID)", timeout: timeout) {
            $0.type == .update && $0.update?.status.taskID == taskID && $0.update?.status.state == state
        }
        return event.update!.status
    }

    /// Sends a call on this framework's stream.
    public func send(_ call: SchedulerCall) async throws { try await subscription.send(call) }

    /// Launches tasks on an offer.
    public func launch(_ tasks: [TaskInfo], on offers: [Offer], refuseSeconds: Double? = nil) async throws {
        try await send(
            SchedulerCall(
                type: .accept,
                accept: .init(
                    offerIDs: offers.map(\.id), operations: [.init(type: .launch, launch: .init(taskInfos: tasks))],
                    filters: refuseSeconds.map { Filters(refuseSeconds: $0) })))
    }

    /// Drops the connection.
    public func disconnect() {
        reader?.cancel()
        subscription.close()
    }
}

/// Builders for test tasks.
public enum TestTasks {
    /// A shell command task using `cpus` and `mem`.
    public static func command(
        _ id: String, _ shell: String, agent: AgentID, cpus: Double = 0.1, mem: Double = 32, grace: Duration? = nil
    ) -> TaskInfo {
        var task = TaskInfo(
            name: id, taskID: TaskID(id), agentID: agent,
            resources: Resources([.scalar("cpus", cpus), .scalar("mem", mem)]).mesos)
        task.command = CommandInfo(value: shell)
        if let grace {
            task.killPolicy = KillPolicy(gracePeriod: DurationInfo(nanoseconds: Int64(grace.seconds * 1e9)))
        }
        return task
    }
}
