import Logging
import CapstanAPI
import CapstanCore
import CapstanHTTP
import Foundation

extension Master {
    /// SUBSCRIBE: registers a new framework or re-subscribes a known one (failover). Returns the stream ID and the
    /// event stream whose first event is SUBSCRIBED.
    /// With framework authentication on, `principal` is the authenticated principal: `framework_info.principal`
    /// must match it (it is filled in when absent), and an existing framework ID can only be resumed by the
    /// principal that registered it (403 otherwise, and the running framework is left untouched).
    public func subscribe(
        _ subscribe: SchedulerCall.Subscribe, callFrameworkID: FrameworkID?, principal: String? = nil
    ) throws(CapstanError) -> (streamID: String, events: StreamSubscriber<SchedulerEvent>) {
        var info = subscribe.frameworkInfo
        if let callFrameworkID { try callFrameworkID.checkPathSafe(field: "framework_id.value") }
        if let infoID = info.id { try infoID.checkPathSafe(field: "subscribe.framework_info.id.value") }
        if let infoID = info.id, let callFrameworkID, infoID != callFrameworkID {
            throw CapstanError(.invalidArgument, "'framework_id' differs from 'subscribe.framework_info.id'")
        }
        if info.user.isEmpty {
            throw CapstanError(.invalidArgument, "Expecting 'subscribe.framework_info.user' to be present")
        }
        if info.name.isEmpty {
            throw CapstanError(.invalidArgument, "Expecting 'subscribe.framework_info.name' to be present")
        }
        if let timeout = info.failoverTimeout, timeout < 0 || !timeout.isFinite {
            throw CapstanError(.invalidArgument, "'subscribe.framework_info.failover_timeout' must be a non-negative number of seconds")
        }
        if configuration.authentication.authenticateFrameworks {
            guard let principal else { throw CapstanError(.unauthenticated, "framework authentication is required") }
            if let claimed = info.principal, !claimed.isEmpty, claimed != principal {
                throw CapstanError(
                    .permissionDenied,
                    "'subscribe.framework_info.principal' is '\(IdentifierRule.printable(claimed))' but the request authenticated as '\(principal)'")
            }
            info.principal = principal
        }
        let requestedID = info.id ?? callFrameworkID
        if configuration.authentication.authenticateFrameworks, let requestedID, let existing = frameworks[requestedID],
            existing.principal != principal
        {
            throw CapstanError(
                .permissionDenied, "framework \(requestedID) was registered by another principal; '\(principal ?? "")' cannot resume it")
        }
        if let requestedID, completedFrameworks.contains(where: { $0.id == requestedID }) {
            throw CapstanError(.permissionDenied, "Framework \(requestedID) has been removed (torn down or failed over past its failover_timeout)")
        }

        let continuation = StreamSubscriber<SchedulerEvent>(limit: configuration.connectionLimits.streamBufferBytes)
        let streamID = UUID().uuidString.lowercased()
        let connection = SchedulerConnection(streamID: streamID, continuation: continuation)
        let frameworkID: FrameworkID

        if let requestedID, var existing = frameworks[requestedID] {
            // Failover: the new connection replaces the old one, which is told and closed.
            if let old = existing.connection {
                old.continuation.yield(SchedulerEvent(type: .error, error: .init(message: "Framework failed over")))
                old.continuation.finish()
            }
            info.id = requestedID
            existing.info = info
            existing.connection = connection
            existing.reregisteredAt = wallNow
            existing.unregisteredAt = nil
            existing.failoverDeadline = nil
            existing.recovered = false
            if existing.principal == nil { existing.principal = principal }
            frameworks[requestedID] = existing
            registry?.submit(.recordFramework(RegisteredFramework(id: requestedID, info: info, principal: existing.principal)))
            allocator.activateFramework(requestedID)
            allocator.setAcceptsGPUs(requestedID, existing.acceptsGPUs)  // the new FrameworkInfo may add or drop GPU_RESOURCES
            frameworkID = requestedID
            logger.info("Framework re-subscribed", metadata: ["framework_id": "\(requestedID)", "name": "\(info.name)"])
            publish(OperatorEvent(type: .frameworkUpdated, frameworkUpdated: .init(framework: operatorFramework(requestedID))))
        } else {
            // A new framework, or one the master does not know (e.g. after a master restart): admit it.
            frameworkID = requestedID ?? makeFrameworkID()
            info.id = frameworkID
            var record = FrameworkRecord(id: frameworkID, info: info, connection: connection, registeredAt: wallNow)
            record.principal = principal
            frameworks[frameworkID] = record
            registry?.submit(.recordFramework(RegisteredFramework(id: frameworkID, info: info, principal: principal)))
            allocator.addFramework(frameworkID, role: record.role, acceptsGPUs: record.acceptsGPUs)
            logger.info("Framework subscribed", metadata: ["framework_id": "\(frameworkID)", "name": "\(info.name)"])
            publish(OperatorEvent(type: .frameworkAdded, frameworkAdded: .init(framework: operatorFramework(frameworkID))))
        }
        continuation.yield(
            SchedulerEvent(
                type: .subscribed,
                subscribed: .init(
                    frameworkID: frameworkID, heartbeatIntervalSeconds: configuration.heartbeatInterval.seconds,
                    masterInfo: masterInfo)))
        requestAllocation()
        return (streamID, continuation)
    }

    /// The stream of a framework closed (the scheduler went away). Starts the failover timeout.
    public func schedulerDisconnected(_ frameworkID: FrameworkID, streamID: String) {
        guard var framework = frameworks[frameworkID], framework.connection?.streamID == streamID else { return }
        framework.connection = nil
        framework.unregisteredAt = wallNow
        let timeout = framework.info.failoverTimeout ?? 0
        framework.failoverDeadline = ContinuousClock.now + .nanoseconds(Int64(min(timeout, 1e9) * 1e9))
        frameworks[frameworkID] = framework
        allocator.deactivateFramework(frameworkID)
        rescindOffers(of: frameworkID)
        logger.info(
            "Framework disconnected", metadata: ["framework_id": "\(frameworkID)", "failover_timeout": "\(timeout)"])
        publish(OperatorEvent(type: .frameworkUpdated, frameworkUpdated: .init(framework: operatorFramework(frameworkID))))
        if timeout == 0 { expireFrameworks() }
    }

    /// Removes disconnected frameworks whose failover timeout passed: their tasks are killed.
    func expireFrameworks() {
        let now = ContinuousClock.now
        for (frameworkID, framework) in frameworks {
            guard framework.connection == nil, let deadline = framework.failoverDeadline, deadline <= now else { continue }
            logger.info("Framework failover timeout passed; removing it", metadata: ["framework_id": "\(frameworkID)"])
            removeFramework(frameworkID)
        }
    }

    /// TEARDOWN, or failover timeout: kill every task, shut executors down, forget offers, close the stream.
    func removeFramework(_ frameworkID: FrameworkID) {
        guard var framework = frameworks.removeValue(forKey: frameworkID) else { return }
        registry?.submit(.removeFramework(frameworkID))
        heldAcknowledgements.removeFramework(frameworkID)
        rescindOffers(of: frameworkID, notify: false)
        let agentIDs = Set(framework.tasks.values.map { $0.task.agentID }).union(framework.executors.keys)
        for agentID in agentIDs {
            if let agent = agents[agentID] {
                agentLink.send(.shutdownFramework(ShutdownMessage(frameworkID: frameworkID)), to: agentID, at: agent.endpoint)
            }
        }
        for (_, record) in framework.tasks {
            if !record.resourcesRecovered {
                allocator.recover(record.resources, from: frameworkID, on: record.task.agentID)
            }
            var task = record.task
            if !task.state.isTerminal { task.state = .taskKilled }
            framework.completedTasks.append(task)
        }
        framework.tasks = [:]
        framework.connection?.continuation.finish()
        framework.connection = nil
        framework.unregisteredAt = framework.unregisteredAt ?? wallNow
        allocator.removeFramework(frameworkID)
        withholdingLogged.remove(frameworkID)
        completedFrameworks.append(framework)
        if completedFrameworks.count > 50 { completedFrameworks.removeFirst(completedFrameworks.count - 50) }
        publish(OperatorEvent(type: .frameworkRemoved, frameworkRemoved: .init(frameworkInfo: framework.info)))
        requestAllocation()
    }

    /// Sends HEARTBEAT to every connected scheduler.
    func sendHeartbeats() {
        for (frameworkID, framework) in frameworks {
            guard let connection = framework.connection else { continue }
            if !connection.continuation.yield(SchedulerEvent(type: .heartbeat)) { dropIfOverflowed(frameworkID, connection) }
        }
        publish(OperatorEvent(type: .heartbeat))
    }

    /// Checks that a non-SUBSCRIBE call comes from the framework's current stream.
    func authorize(_ frameworkID: FrameworkID?, streamID: String?, principal: String? = nil) throws(CapstanError) -> FrameworkID {
        guard let frameworkID else {
            throw CapstanError(.invalidArgument, "Expecting 'framework_id' to be present")
        }
        guard let framework = frameworks[frameworkID] else {
            throw CapstanError(.notFound, "Framework \(frameworkID) cannot be found")
        }
        if configuration.authentication.authenticateFrameworks, framework.principal != principal {
            throw CapstanError(.permissionDenied, "principal '\(principal ?? "")' may not act for framework \(frameworkID)")
        }
        guard let connection = framework.connection else {
            throw CapstanError(.permissionDenied, "Framework \(frameworkID) is not subscribed")
        }
        guard let streamID else {
            throw CapstanError(.invalidArgument, "All non-subscribe calls should include the 'Mesos-Stream-Id' header")
        }
        guard streamID == connection.streamID else {
            throw CapstanError(
                .invalidArgument,
                "The stream ID included in this request didn't match the stream ID currently associated with framework ID \(frameworkID)")
        }
        return frameworkID
    }
}
