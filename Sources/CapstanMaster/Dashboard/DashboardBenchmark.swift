import CapstanAPI
import CapstanCore
import CapstanHTTP
import Foundation
import Hummingbird
import Logging

/// `capstan bench dashboard`'s cluster: a master actor filled through its own scheduler path (agents register,
/// a framework subscribes, accepts offers with LAUNCH operations, and the agents' status updates move tasks to
/// TASK_RUNNING), with no agent processes behind it: commands to agents go nowhere. The tasks are real master
/// state, so the dashboard reads exactly what it would read on a live cluster of that size.
public enum DashboardBenchmark {
    /// Builds a master with `tasks` running tasks spread over `agents` agents.
    public static func master(tasks: Int, agents agentCount: Int, logger: Logger) async throws -> Master {
        var configuration = MasterConfiguration(workDir: NSTemporaryDirectory() + "capstan-bench-dashboard")
        configuration.connectionLimits.streamBufferBytes = 1 << 30
        let master = Master(configuration: configuration, agentLink: SilentMessenger(), logger: logger)
        try await master.fillForBenchmark(tasks: tasks, agents: max(1, agentCount))
        return master
    }
}

/// Sends nothing: the benchmark has no agent processes.
struct SilentMessenger: AgentMessenger {
    func send(_ command: AgentCommand, to agentID: AgentID, at endpoint: HostPort) {}
    func setPrincipal(_ principal: String?, for agentID: AgentID) {}
    func shutdown() {}
}

extension Master {
    func fillForBenchmark(tasks: Int, agents agentCount: Int) throws(CapstanError) {
        let perAgent = (tasks + agentCount - 1) / agentCount
        var agentIDs: [AgentID] = []
        for index in 0..<agentCount {
            let resources = Resources([.scalar("cpus", Double(perAgent)), .scalar("mem", Double(perAgent * 64)), .scalar("disk", 1024)])
            let info = AgentInfo(hostname: "bench-agent-\(index)", resources: resources.mesos)
            let reply = try registerAgent(
                RegisterAgentMessage(agentID: nil, agentInfo: info, endpoint: "127.0.0.1:\(20000 + index)", version: "1.0.0"))
            agentIDs.append(reply.agentID)
        }
        var frameworkInfo = FrameworkInfo(user: "root", name: "bench-dashboard")
        frameworkInfo.failoverTimeout = 7 * 24 * 3600
        let (streamID, _) = try subscribe(.init(frameworkInfo: frameworkInfo), callFrameworkID: nil)
        guard let frameworkID = frameworkID(forStream: streamID) else {
            throw CapstanError(.internal, "the benchmark framework did not subscribe")
        }
        var launched = 0
        for _ in 0..<(agentCount * 4) where launched < tasks {
            requestAllocation()
            allocate()
            let pending = offers.values.filter { $0.frameworkID == frameworkID }.sorted { $0.offer.id < $1.offer.id }
            for record in pending where launched < tasks {
                let count = min(perAgent, tasks - launched, Int(record.resources.cpus))
                let infos = (0..<count).map { offset in
                    let number = launched + offset
                    var info = TaskInfo(
                        name: "bench-\(number)", taskID: TaskID(String(format: "bench-task-%05d", number)), agentID: record.agentID,
                        resources: Resources([.scalar("cpus", 1), .scalar("mem", 64)]).mesos)
                    info.command = CommandInfo(value: "sleep 3600")
                    info.labels = Labels(labels: [Label(key: TaskLabel.app, value: "app-\(number % 100)")])
                    return info
                }
                try handle(
                    SchedulerCall(
                        type: .accept, frameworkID: frameworkID,
                        accept: .init(offerIDs: [record.offer.id], operations: [
                            Offer.Operation(type: .launch, launch: .init(taskInfos: infos))
                        ])),
                    streamID: streamID)
                for info in infos {
                    try statusUpdate(StatusUpdateMessage(
                        frameworkID: frameworkID,
                        status: TaskStatus(taskID: info.taskID, state: .taskRunning, agentID: info.agentID, timestamp: wallNow)))
                }
                launched += count
            }
        }
        guard launched == tasks else {
            throw CapstanError(.internal, "the benchmark launched \(launched) of \(tasks) tasks")
        }
    }
}

