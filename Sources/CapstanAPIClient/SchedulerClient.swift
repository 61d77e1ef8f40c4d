import AsyncHTTPClient
import CapstanAPI
import CapstanCore
import Foundation

/// A Mesos v1 HTTP scheduler client: SUBSCRIBE opens the RecordIO event stream; calls go on separate requests
/// carrying the `Mesos-Stream-Id` header. Used by Capstan's reconciler and by the end-to-end tests.
public struct SchedulerClient: Sendable {
    public let master: HostPort
    let client: HTTPClient
    let poster: JSONPoster

    /// `authorization`: HTTP Basic or a bearer token, for a master with `--authenticate-frameworks`.
    public init(master: HostPort, client: HTTPClient = .shared, authorization: String? = nil, secure: Bool = false) {
        self.master = master
        self.client = client
        self.poster = JSONPoster(client: client, authorization: authorization, secure: secure)
    }

    var schedulerURL: String { poster.resolve(master.url + "/api/v1/scheduler") }

    /// Subscribes (or re-subscribes with `frameworkInfo.id`) and waits for SUBSCRIBED.
    public func subscribe(_ frameworkInfo: FrameworkInfo, timeout: Duration = .seconds(10)) async throws -> SchedulerSubscription {
        let call = SchedulerCall(type: .subscribe, frameworkID: frameworkInfo.id, subscribe: .init(frameworkInfo: frameworkInfo))
        let opened: RecordIOStreamReader.Opened
        do {
            opened = try await RecordIOStreamReader.open(
                url: schedulerURL, body: try MesosJSON.encode(call), headers: poster.authorization.map { [("Authorization", $0)] } ?? [],
                client: client)
        } catch let error as CapstanError {
            // An agent has no scheduler API: say that the address is an agent's, not that the call was not found.
            if error.code == .notFound, await MasterIdentity.isAgent(master, poster: poster) {
                throw CapstanError(.invalidArgument, MasterIdentity.agentMessage(master))
            }
            throw error
        } catch {
            throw CapstanError(.unavailable, "SUBSCRIBE to \(schedulerURL) failed", cause: error)
        }
        guard let streamID = opened.header("Mesos-Stream-Id") else {
            throw CapstanError(.failedPrecondition, "SUBSCRIBE answer has no Mesos-Stream-Id header")
        }
        let (events, continuation) = AsyncThrowingStream.makeStream(of: SchedulerEvent.self, bufferingPolicy: .unbounded)
        // The first event (SUBSCRIBED) goes to its own stream so `subscribe` can wait for it with a timeout.
        let (firstEvents, firstContinuation) = AsyncThrowingStream.makeStream(of: SchedulerEvent.self, bufferingPolicy: .unbounded)
        let reader = Task {
            var sawFirst = false
            do {
                for try await record in opened.records {
                    let event = try MesosJSON.decode(SchedulerEvent.self, from: record)
                    if sawFirst {
                        continuation.yield(event)
                    } else {
                        sawFirst = true
                        firstContinuation.yield(event)
                        firstContinuation.finish()
                    }
                }
                firstContinuation.finish()
                continuation.finish()
            } catch {
                firstContinuation.finish(throwing: error)
                continuation.finish(throwing: error)
            }
        }
        let first = try await withTimeout(timeout) { () async throws -> SchedulerEvent? in
            for try await event in firstEvents { return event }
            return nil
        }
        guard let first, first.type == .subscribed, let subscribed = first.subscribed else {
            reader.cancel()
            throw CapstanError(.failedPrecondition, "The first event on the stream was not SUBSCRIBED")
        }
        return SchedulerSubscription(
            frameworkID: subscribed.frameworkID, streamID: streamID,
            heartbeatIntervalSeconds: subscribed.heartbeatIntervalSeconds, events: events, reader: reader,
            poster: poster, url: schedulerURL)
    }
}

/// An open scheduler subscription.
public struct SchedulerSubscription: Sendable {
    public let frameworkID: FrameworkID
    public let streamID: String
    public let heartbeatIntervalSeconds: Double?
    /// Events after SUBSCRIBED, in order; finishes when the master closes the stream.
    public let events: AsyncThrowingStream<SchedulerEvent, any Error>
    let reader: Task<Void, Never>
    let poster: JSONPoster
    let url: String

    /// Sends a call with this framework's ID and stream ID; anything but 202 throws with the master's text.
    public func send(_ call: SchedulerCall) async throws {
        var call = call
        if call.frameworkID == nil { call.frameworkID = frameworkID }
        let reply = try await poster.post(call, to: url, headers: [("Mesos-Stream-Id", streamID)])
        guard reply.status == 202 else {
            throw SchedulerCallError(status: reply.status, message: reply.text)
        }
    }

    /// Drops the connection (the master sees the framework disconnect).
    public func close() {
        reader.cancel()
    }
}

/// A scheduler call the master refused.
public struct SchedulerCallError: Error, CustomStringConvertible, Sendable {
    public let status: Int
    public let message: String
    public var description: String { "scheduler call answered \(status): \(message)" }
}

/// Runs `body`, failing with `timeout` when it takes longer than `limit`.
public func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw CapstanError(.timeout, "Timed out after \(limit)")
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
