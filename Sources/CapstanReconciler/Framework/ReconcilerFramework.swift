import AsyncHTTPClient
import CapstanAPI
import CapstanAPIClient
import CapstanCore
import Foundation
import Logging

/// The reconciler's connection to the master: it subscribes as the `capstan-reconciler` framework (re-using the
/// framework ID kept in the history store, so a restart fails over instead of starting afresh), reads the
/// framework's tasks through the operator API, then feeds every event and a periodic tick to the ``Reconciler``
/// and sends the calls it answers. A lost connection is retried until the task is cancelled.
public struct ReconcilerFramework: Sendable {
    let reconciler: Reconciler
    let configuration: ReconcilerConfiguration
    let store: HistoryStore
    let logger: Logger
    let client: HTTPClient

    public init(reconciler: Reconciler, configuration: ReconcilerConfiguration, store: HistoryStore, logger: Logger, client: HTTPClient = .shared) {
        self.reconciler = reconciler
        self.configuration = configuration
        self.store = store
        self.logger = logger
        self.client = client
    }

    /// Runs until cancelled.
    public func run() async {
        let finder: LeaderFinder
        do {
            finder = try LeaderFinder(configuration.master, tls: configuration.clientTLS)
        } catch {
            await reconciler.lostMaster(error.message, master: configuration.master.description)
            logger.error("Cannot follow the master", metadata: ["master": "\(configuration.master)", "error": "\(error)"])
            return
        }
        var delay = Duration.milliseconds(250)
        while !Task.isCancelled {
            // Asked before every subscription: after a failover another master leads.
            var master: HostPort?
            do {
                let leader = try await finder.leader()
                master = leader
                try await session(master: leader)
                delay = .milliseconds(250)
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                await finder.forget()
                // The HTTP client reports a refused connection only as its deadline: ask the address itself why,
                // unless the session's own probe before SUBSCRIBE already did.
                let reason: String
                if let unreachable = error as? MasterNotListening {
                    reason = unreachable.reason
                } else if let master {
                    let probed = await ConnectionProbe.reason(master.description, timeout: 1_000)
                    reason = probed.hasPrefix("it accepts connections") ? Self.reason(error) : probed
                } else {
                    reason = Self.reason(error)  // no leader found: the finder's own sentence
                }
                let named = master?.description ?? configuration.master.description
                await reconciler.lostMaster(reason, master: named)
                logger.warning("Lost the master; subscribing again", metadata: ["master": "\(named)", "error": "\(error)", "retry": "\(delay)"])
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
    }

    /// One subscription to `master` (the leader when it was asked): from SUBSCRIBE until the stream ends.
    func session(master: HostPort) async throws {
        // The HTTP client retries a refused connection until the request's deadline, which a SUBSCRIBE stream does
        // not have: ask the address first, so that a master that is down is reported (and retried) at once.
        let reachable = await ConnectionProbe.reason(master.description, timeout: 1_000)
        guard reachable.hasPrefix("it accepts connections") else {
            throw MasterNotListening(master: master, reason: reachable)
        }
        let storedID = try? await store.frameworkID()
        let info = FrameworkInfo(
            user: configuration.user, name: ReconcilerModule.frameworkName, id: storedID.map { FrameworkID($0) },
            failoverTimeout: Double(configuration.failoverTimeout.components.seconds), checkpoint: true,
            role: configuration.role, hostname: ProcessInfo.processInfo.hostName, webuiURL: configuration.webuiURL,
            capabilities: [.init(type: .taskKillingState), .init(type: .gpuResources)])
        let subscription: SchedulerSubscription
        do {
            subscription = try await SchedulerClient(
                master: master, client: client, authorization: configuration.authorization,
                secure: configuration.clientTLS != nil
            ).subscribe(info)
        } catch let error as CapstanError where storedID != nil && error.code == .permissionDenied {
            // The master removed the framework (torn down, or away past its failover timeout): its tasks are gone
            // with it, so start afresh as a new framework.
            logger.warning("The master no longer knows this framework; subscribing as a new one", metadata: ["framework": "\(storedID ?? "")", "error": "\(error.message)"])
            try? await store.setFrameworkID(nil)
            throw error
        }
        defer { subscription.close() }
        if storedID != subscription.frameworkID.value {
            try? await store.setFrameworkID(subscription.frameworkID.value)
        }
        logger.info("Subscribed", metadata: ["framework": "\(subscription.frameworkID.value)", "master": "\(master)"])

        let poster = JSONPoster(client: client, authorization: configuration.authorization, secure: configuration.clientTLS != nil)
        let state = try await settledState(poster: poster, master: master)
        await reconciler.seed(state: state.getState ?? .init(), frameworkID: subscription.frameworkID)
        await reconciler.resubscribed()
        await reconciler.reachedMaster()

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await event in subscription.events {
                    let calls = await handle(event)
                    try await send(calls, on: subscription)
                }
                throw CapstanError(.unavailable, "the master closed the event stream")
            }
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: configuration.tick)
                    try await send(await reconciler.tick(), on: subscription)
                }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// A failure to reach the master as a short phrase: "connection refused", not the HTTP library's type dump.
    static func reason(_ error: any Error) -> String {
        let text = (error as? CapstanError)?.message ?? "\(error)"
        let lower = text.lowercased()
        if lower.contains("connection refused") || lower.contains("connectionrefused") || lower.contains("errno: 111") { return "connection refused" }
        if lower.contains("timed out") || lower.contains("timeout") { return "timed out" }
        if lower.contains("closed the event stream") { return "the master closed the event stream" }
        return text
    }

    func handle(_ event: SchedulerEvent) async -> [SchedulerCall] {
        switch event.type {
        case .offers:
            return await reconciler.offers(event.offers?.offers ?? [])
        case .update:
            guard let status = event.update?.status else { return [] }
            return await reconciler.update(status)
        case .error:
            logger.error("The master sent an error", metadata: ["message": "\(event.error?.message ?? "")"])
            return []
        default:
            return []
        }
    }

    func send(_ calls: [SchedulerCall], on subscription: SchedulerSubscription) async throws {
        for call in calls {
            do {
                try await subscription.send(call)
            } catch let error as SchedulerCallError {
                // A refused call (e.g. an offer rescinded meanwhile) is not fatal: the next offer or tick corrects it.
                logger.warning("The master refused a call", metadata: ["call": "\(call.type?.rawValue ?? "?")", "error": "\(error)"])
            }
        }
    }

    /// The master's GET_STATE once no agent of its registry is still to re-register (a restarted master lists them
    /// in `recovered_agents`): their tasks may still run, and planning without them would launch duplicates that
    /// are killed again once they are back. The master removes those that do not come back within its
    /// `--agent-reregister-timeout`, so the wait ends.
    private func settledState(poster: JSONPoster, master: HostPort) async throws -> OperatorResponse {
        var waiting = false
        while true {
            let state = try await poster.call(
                OperatorCall(type: .getState), to: master.url(tls: configuration.clientTLS != nil) + "/api/v1", expecting: OperatorResponse.self)
            let recovering = state.getState?.getAgents?.recoveredAgents ?? []
            if recovering.isEmpty {
                if waiting { logger.info("Every agent of the restarted master is back; reading the task list") }
                return state
            }
            if !waiting {
                logger.info(
                    "The master restarted and waits for agents to re-register; planning waits for them",
                    metadata: ["agents": "\(recovering.compactMap { $0.id?.value }.sorted())"])
                waiting = true
            }
            try await Task.sleep(for: .seconds(1))
        }
    }
}

/// The probe before SUBSCRIBE found nothing accepting connections at the master's address; `reason` is the probe's.
struct MasterNotListening: Error, CustomStringConvertible {
    let master: HostPort
    let reason: String
    var description: String { "cannot reach the master at \(master): \(reason)" }
}
