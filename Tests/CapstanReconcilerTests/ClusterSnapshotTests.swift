import CapstanAPI
import CapstanCore
import CapstanReconciler
import Foundation
import Testing

@Suite("ClusterSnapshot from GET_STATE")
struct ClusterSnapshotTests {
    static func task(_ id: String, app: String?, state: TaskState, agent: String = "a1", healthy: Bool? = nil, kind: String? = nil) -> MesosTask {
        var labels: [Label] = [Label(key: "other", value: "x")]
        if let app {
            labels += [
                Label(key: TaskLabel.app, value: app), Label(key: TaskLabel.spec, value: "0123456789abcdef"),
                Label(key: TaskLabel.commit, value: "c0ffee00c0ff"),
            ]
        }
        if let kind { labels.append(Label(key: TaskLabel.kind, value: kind)) }
        return MesosTask(
            name: id, taskID: TaskID(id), frameworkID: "fw", agentID: AgentID(agent), state: state,
            resources: Resources([.scalar("cpus", 0.5), .scalar("mem", 64), .ranges("ports", [ValueRange(begin: 31000, end: 31000)])]).mesos,
            statuses: [TaskStatus(taskID: TaskID(id), state: state, healthy: healthy)], labels: Labels(labels: labels))
    }

    static var state: OperatorResponse.GetState {
        let total = Resources([.scalar("cpus", 4), .scalar("mem", 1024), .scalar("cpus", 2, role: "other"),
                               .ranges("ports", [ValueRange(begin: 31000, end: 31009)])])
        let allocated = Resources([.scalar("cpus", 1), .scalar("mem", 128), .ranges("ports", [ValueRange(begin: 31000, end: 31000)])])
        return OperatorResponse.GetState(
            getTasks: OperatorResponse.GetTasks(
                pendingTasks: [task("p", app: "web", state: .taskStaging)],
                tasks: [task("r", app: "web", state: .taskRunning, healthy: true), task("foreign", app: nil, state: .taskRunning),
                        task("k", app: "web", state: .taskKilling)],
                unreachableTasks: [task("u", app: "web", state: .taskUnreachable)],
                completedTasks: [task("done", app: "migrate", state: .taskFinished, kind: "Job"), task("f", app: "web", state: .taskFailed)]),
            getAgents: OperatorResponse.GetAgents(agents: [
                .init(
                    agentInfo: AgentInfo(
                        hostname: "node1", attributes: [MesosAttribute(Attribute(name: "zone", value: .text("eu"))),
                                                        MesosAttribute(Attribute(name: "rack", value: .scalar(3)))],
                        id: "a1"),
                    active: true, version: "1.0.0", totalResources: total.mesos, allocatedResources: allocated.mesos),
                .init(agentInfo: AgentInfo(hostname: "gone", id: "a2"), active: false, version: "1.0.0", totalResources: total.mesos),
            ]))
    }

    @Test func tasksWithACapstanLabelBecomeObservedTasks() throws {
        let snapshot = try ClusterSnapshot(state: Self.state)
        let byID = Dictionary(uniqueKeysWithValues: snapshot.tasks.map { ($0.taskID.value, $0) })
        #expect(byID.keys.sorted() == ["done", "f", "k", "p", "r", "u"], "the unlabelled task is not Capstan's")
        #expect(byID["p"]?.phase == .pending)
        #expect(byID["r"]?.phase == .running)
        #expect(byID["r"]?.healthy == true)
        #expect(byID["k"]?.phase == .killing)
        #expect(byID["u"]?.phase == .failed)
        #expect(byID["f"]?.phase == .failed)
        #expect(byID["done"]?.phase == .finished)
        #expect(byID["done"]?.kind == .job)
        #expect(byID["r"]?.kind == .app)
        #expect(byID["r"]?.templateLabel == "0123456789abcdef")
        #expect(byID["r"]?.commit == "c0ffee00c0ff")
        #expect(byID["r"]?.agentID == "a1")
        #expect(byID["r"]?.resources.cpus == 0.5)
    }

    @Test func activeAgentsHaveTotalLessAllocatedForTheRole() throws {
        let snapshot = try ClusterSnapshot(state: Self.state)
        let agents = try #require(snapshot.agents)
        #expect(agents.count == 1, "inactive agents are left out")
        #expect(agents[0].hostname == "node1")
        #expect(agents[0].attributes == ["zone": "eu", "rack": "3"])
        #expect(agents[0].free.cpus == 3, "reserved cpus of another role are not usable")
        #expect(agents[0].free.mem == 896)
        #expect(agents[0].free.ranges("ports") == [ValueRange(begin: 31001, end: 31009)])
        let other = try #require(try ClusterSnapshot(state: Self.state, role: "other").agents)
        #expect(other[0].free.cpus == 5)
    }

    @Test func savedJSONIsTheWholeResponseOrJustGetState() throws {
        let response = OperatorResponse(type: .getState, getState: Self.state)
        let whole = try ClusterSnapshot(stateJSON: try MesosJSON.encode(response))
        let bare = try ClusterSnapshot(stateJSON: try MesosJSON.encode(Self.state))
        #expect(whole == bare)
        #expect(whole.tasks.count == 6)
    }

    @Test func otherJSONIsRejectedWithAReason() throws {
        #expect(throws: CapstanError.self) { try ClusterSnapshot(stateJSON: Data("[1]".utf8)) }
        let unrelated = #expect(throws: CapstanError.self) { try ClusterSnapshot(stateJSON: Data(#"{"hello": 1}"#.utf8)) }
        #expect(unrelated?.message.contains("no get_tasks or get_agents") == true)
        let agentsCall = #expect(throws: CapstanError.self) { try ClusterSnapshot(stateJSON: Data(#"{"type": "GET_AGENTS", "get_agents": {}}"#.utf8)) }
        #expect(agentsCall?.message.contains("no get_state") == true)
        let broken = #expect(throws: CapstanError.self) {
            try ClusterSnapshot(stateJSON: Data(#"{"get_tasks": {"tasks": [{"name": 3}]}}"#.utf8))
        }
        #expect(broken?.message == "not a valid GET_STATE response")
    }
}
