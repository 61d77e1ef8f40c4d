import CapstanAPI
import CapstanAPIClient
import CapstanCore
import Foundation

/// Where `capstan logs` reads from: the tasks the master knows, the agents they run on, and each task's sandbox file
/// through its agent's files API (READ_FILE, whose data is the file's exact bytes).
struct TaskLogSource: Sendable {
    let master: HostPort
    let poster: JSONPoster

    /// One task whose sandbox file is read.
    struct Target: Sendable {
        var taskID: String
        var agentID: String
        /// The agent's operator API (`http://host:port/api/v1`).
        var agentURL: String
        /// The file: `<directory>/stdout` or `/stderr`.
        var path: String
    }

    /// What the master says of the tasks (GET_TASKS) and where the agents are (GET_AGENTS).
    struct Snapshot: Sendable {
        var tasks: [MesosTask]
        var agents: [String: String]

        /// The task named `name`, or every task of the app named `name` (its running instances; all of its ended
        /// ones when none runs), sorted by task ID.
        func matching(_ name: String) -> [MesosTask] {
            if let task = tasks.last(where: { $0.taskID.value == name }) { return [task] }
            let app = tasks.filter { task in task.labels?.labels.contains { $0.key == TaskLabel.app && $0.value == name } == true }
            let running = app.filter { !$0.state.isTerminal }
            return (running.isEmpty ? app : running).sorted { $0.taskID.value < $1.taskID.value }
        }

        func isTerminal(_ taskID: String) -> Bool {
            tasks.last { $0.taskID.value == taskID }?.state.isTerminal ?? true
        }
    }

    /// Asks the master for its tasks and agents.
    func snapshot() async throws -> Snapshot {
        let tasks = try await masterCall(OperatorCall(type: .getTasks)).getTasks ?? OperatorResponse.GetTasks()
        let agents = try await masterCall(OperatorCall(type: .getAgents)).getAgents ?? OperatorResponse.GetAgents()
        var addresses: [String: String] = [:]
        for agent in agents.agents {
            guard let id = agent.agentInfo.id?.value else { continue }
            if let pid = agent.pid, let at = pid.lastIndex(of: "@") {
                addresses[id] = String(pid[pid.index(after: at)...])
            } else if let port = agent.agentInfo.port {
                addresses[id] = "\(agent.agentInfo.hostname):\(port)"
            }
        }
        // Pending tasks have no agent yet; the rest are listed once each, the newest record last.
        return Snapshot(tasks: tasks.tasks + tasks.unreachableTasks + tasks.completedTasks + tasks.orphanTasks, agents: addresses)
    }

    /// The file to read for `task` (stdout, or stderr), on its agent.
    func target(_ task: MesosTask, in snapshot: Snapshot, stderr: Bool) throws -> Target {
        guard let address = snapshot.agents[task.agentID.value] else {
            throw CapstanError(
                .unavailable, "Task \(task.taskID.value) ran on agent \(task.agentID.value), which the master at \(master) no longer lists")
        }
        let directory = task.directory ?? MesosTask.sandboxAlias(
            agentID: task.agentID, frameworkID: task.frameworkID, executorID: task.executorID ?? ExecutorID(task.taskID.value))
        return Target(
            taskID: task.taskID.value, agentID: task.agentID.value, agentURL: "http://\(address)/api/v1",
            path: directory + (stderr ? "/stderr" : "/stdout"))
    }

    /// READ_FILE: up to `length` bytes from `offset` and the file's size; nil when the file is not there (yet).
    func read(_ target: Target, offset: UInt64, length: UInt64) async throws -> (data: Data, size: UInt64)? {
        let call = AgentOperatorCall(type: .readFile, readFile: .init(path: target.path, offset: offset, length: length))
        let reply: JSONPoster.Reply
        do {
            reply = try await poster.post(call, to: target.agentURL)
        } catch {
            let address = target.agentURL.dropFirst("http://".count).prefix { $0 != "/" }
            throw CapstanError(
                .unavailable,
                "cannot reach agent \(target.agentID) at \(address) (task \(target.taskID)): \(await ConnectionProbe.reason(String(address)))")
        }
        if reply.status == 404 { return nil }
        if reply.status == 401 || reply.status == 403 {
            throw CapstanError(
                .init(httpStatus: reply.status),
                "agent \(target.agentID) refused READ_FILE (\(reply.status)): pass --principal and --secret-file, or --token-file, that it accepts")
        }
        guard reply.isSuccess else {
            throw CapstanError(.failedPrecondition, "Agent \(target.agentID) answered \(reply.status) to READ_FILE \(target.path): \(reply.text)")
        }
        let response = try MesosJSON.decode(AgentOperatorResponse.self, from: reply.body)
        guard let file = response.readFile else {
            throw CapstanError(.failedPrecondition, "Agent \(target.agentID) answered READ_FILE without 'read_file'")
        }
        return (file.data.data, file.size)
    }

    private func masterCall(_ call: OperatorCall) async throws -> OperatorResponse {
        let reply: JSONPoster.Reply
        do {
            reply = try await poster.post(call, to: master.url + "/api/v1")
        } catch {
            throw CapstanError(.unavailable, "cannot reach the master at \(master): \(await ConnectionProbe.reason("\(master)"))")
        }
        if reply.status == 401 || reply.status == 403 {
            throw CapstanError(
                .init(httpStatus: reply.status),
                "the master at \(master) refused \(call.type?.rawValue ?? "?") (\(reply.status)): pass --principal and --secret-file, or --token-file")
        }
        if MasterIdentity.isAgentRefusal(status: reply.status, text: reply.text) || (reply.isSuccess && MasterIdentity.isAgentTaskList(reply.body)) {
            throw CapstanError(.invalidArgument, MasterIdentity.agentMessage(master))
        }
        guard reply.isSuccess else {
            throw CapstanError(
                .init(httpStatus: reply.status), "the master at \(master) answered \(reply.status) to \(call.type?.rawValue ?? "?"): \(reply.text)")
        }
        do {
            return try MesosJSON.decode(OperatorResponse.self, from: reply.body)
        } catch {
            throw CapstanError(
                .failedPrecondition, "\(master) did not answer \(call.type?.rawValue ?? "?") as a Mesos master does; is --master a master's address?")
        }
    }
}
