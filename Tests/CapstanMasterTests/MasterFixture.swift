import CapstanAPI
import CapstanCore
import Foundation
import Logging
import NIOCore
import Synchronization
import Testing

@testable import CapstanHTTP
@testable import CapstanMaster

/// Records the commands the master sends to agents, instead of POSTing them.
final class RecordingMessenger: AgentMessenger {
    private let sent = Mutex<[(command: AgentCommand, agentID: AgentID)]>([])

    func send(_ command: AgentCommand, to agentID: AgentID, at endpoint: HostPort) {
        sent.withLock { $0.append((command, agentID)) }
    }
    func setPrincipal(_ principal: String?, for agentID: AgentID) {}
    func shutdown() {}

    /// The frameworks shut down on agents so far.
    var shutdowns: [FrameworkID] {
        sent.withLock { list in
            list.compactMap { if case .shutdownFramework(let message) = $0.command { return message.frameworkID } else { return nil } }
        }
    }

    /// The run-task messages sent so far.
    var runTasks: [RunTaskMessage] {
        sent.withLock { list in
            list.compactMap { if case .runTask(let message) = $0.command { return message } else { return nil } }
        }
    }
}

/// A master actor driven directly: agents register by message, frameworks subscribe and read their event stream.
struct MasterFixture {
    let master: Master
    let messenger = RecordingMessenger()

    init(configure: (inout MasterConfiguration) -> Void = { _ in }) {
        var configuration = MasterConfiguration(
            workDir: FileManager.default.temporaryDirectory.appendingPathComponent("capstan-master-\(UUID().uuidString.prefix(8))").path,
            allocationInterval: .milliseconds(10))
        configure(&configuration)
        master = Master(configuration: configuration, agentLink: messenger, logger: Logger(label: "test"))
    }

    /// Registers an agent offering `resources`; returns its ID.
    func registerAgent(_ resources: String = "cpus:2;mem:1024;ports:[31000-31009]", hostname: String = "h1") async throws -> AgentID {
        let info = AgentInfo(hostname: hostname, resources: try Resources.parse(resources).mesos)
        let reply = try await master.registerAgent(
            RegisterAgentMessage(agentID: nil, agentInfo: info, endpoint: "127.0.0.1:1", version: "1.0.0"))
        return reply.agentID
    }

    /// A subscribed framework: its ID, stream ID and events.
    struct Framework {
        let id: FrameworkID
        let streamID: String
        let events: StreamSubscriber<SchedulerEvent>

        /// The next event on the stream (fails after 5 s).
        func next() async throws -> SchedulerEvent {
            try await withThrowingTaskGroup(of: SchedulerEvent?.self) { group in
                group.addTask {
                    guard let record = await events.next() else { return nil }
                    var decoder = RecordIODecoder()
                    decoder.append(record.readableBytesView)
                    guard let data = try decoder.next() else { return nil }
                    return try MesosJSON.decode(SchedulerEvent.self, from: data)
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(5))
                    return nil
                }
                defer { group.cancelAll() }
                guard let event = try await group.next() ?? nil else {
                    throw CapstanError(.timeout, "no scheduler event within 5 s")
                }
                return event
            }
        }

        /// Skips heartbeats; the next event of `type`.
        func next(_ type: SchedulerEvent.Kind) async throws -> SchedulerEvent {
            while true {
                let event = try await next()
                if event.type == type { return event }
                if event.type != .heartbeat { throw CapstanError(.failedPrecondition, "expected \(type), got \(String(describing: event.type))") }
            }
        }
    }

    func subscribe(name: String = "test", user: String = "root") async throws -> Framework {
        let (streamID, events) = try await master.subscribe(
            .init(frameworkInfo: FrameworkInfo(user: user, name: name)), callFrameworkID: nil)
        let id = try #require(await master.frameworkID(forStream: streamID))
        return Framework(id: id, streamID: streamID, events: events)
    }

    /// Runs an allocation cycle now.
    func allocate() async {
        await master.requestAllocation()
        await master.allocateIfDue()
    }
}
