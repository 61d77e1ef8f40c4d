import CapstanAPI
import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import CapstanAgent

/// The agent's HTTP routes in HummingbirdTesting's router mode: the master's internal messages and the operator API go
/// through the real router, decoding and error mapping to the agent actor, with no socket.
@Suite("Agent routes")
struct AgentRoutesTests {
    static func application(_ fixture: AgentFixture) throws -> some ApplicationProtocol {
        let router = Router()
        try AgentRoutes.register(
            on: router, agent: fixture.agent, files: SandboxFiles(workDir: fixture.workDir), configuration: fixture.configuration)
        return Application(router: router)
    }

    static func post(_ client: some TestClientProtocol, _ path: String, _ body: String) async throws -> (status: HTTPResponse.Status, text: String) {
        let response = try await client.execute(
            uri: path, method: .post, headers: [.contentType: "application/json", .accept: "application/json"],
            body: ByteBuffer(string: body))
        return (response.status, String(buffer: response.body))
    }

    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try MesosJSON.encode(value), as: UTF8.self)
    }

    static func runTask(_ task: TaskInfo, framework: FrameworkInfo = AgentFixture.framework) throws -> String {
        try json(RunTaskMessage(framework: framework, task: task))
    }

    @Test("A run-task the agent cannot run is a 400 naming the field, and nothing is launched")
    func runTaskValidation() async throws {
        try await AgentFixture.with { fixture in
            try await Self.application(fixture).test(.router) { client in
                let noFramework = try await Self.post(
                    client, InternalPath.runTask, try Self.runTask(AgentFixture.task("t"), framework: FrameworkInfo(user: "", name: "no-id")))
                #expect(noFramework.status == .badRequest)
                #expect(noFramework.text.contains("framework.id"), "\(noFramework.text)")

                let badTaskID = try await Self.post(client, InternalPath.runTask, try Self.runTask(AgentFixture.task("../escape")))
                #expect(badTaskID.status == .badRequest)
                #expect(badTaskID.text.contains("task.task_id"), "\(badTaskID.text)")

                var withExecutor = AgentFixture.task("custom")
                withExecutor.command = nil
                withExecutor.executor = ExecutorInfo(executorID: ExecutorID("a/b"), command: CommandInfo(value: "true"))
                let badExecutorID = try await Self.post(client, InternalPath.runTask, try Self.runTask(withExecutor))
                #expect(badExecutorID.status == .badRequest)
                #expect(badExecutorID.text.contains("task.executor.executor_id"), "\(badExecutorID.text)")

                let wrongType = try await Self.post(
                    client, InternalPath.runTask, #"{"framework":{"user":"","name":"f","id":{"value":"f"}},"task":{"name":"t","task_id":7}}"#)
                #expect(wrongType.status == .badRequest)
                #expect(wrongType.text.contains("task_id"), "\(wrongType.text)")
            }
            #expect(fixture.provisioner.started.isEmpty)
            #expect(await fixture.containerizer.containers().isEmpty)
        }
    }

    @Test("Run-task of an image task is answered 202 while its pull stalls; a kill of it is answered and ends it TASK_KILLED")
    func runTaskAnsweredAtOnce() async throws {
        try await AgentFixture.with { fixture in
            let app = try Self.application(fixture)
            try await app.test(.router) { client in
                let body = try Self.runTask(AgentFixture.task("stalled", image: "registry.test/stalled:1"))
                let answer = try await completes("the run-task answer while the pull stalls") {
                    try await Self.post(client, InternalPath.runTask, body)
                }
                #expect(answer.status == .accepted, "\(answer.text)")
                try await eventually("the pull started") { fixture.provisioner.started.count == 1 }
                #expect(await fixture.executorState("stalled") == "launching")

                let kill = try Self.json(KillTaskMessage(frameworkID: AgentFixture.frameworkID, taskID: TaskID("stalled")))
                let killed = try await completes("the kill answer while the pull stalls") { try await Self.post(client, InternalPath.killTask, kill) }
                #expect(killed.status == .accepted)
                try await fixture.update("stalled", .taskKilled)
            }
        }
    }

    @Test("A kill of a task the agent does not run is answered 202 and sends no update")
    func killUnknownTask() async throws {
        try await AgentFixture.with { fixture in
            try await Self.application(fixture).test(.router) { client in
                let kill = try Self.json(KillTaskMessage(frameworkID: AgentFixture.frameworkID, taskID: TaskID("nope")))
                let answer = try await Self.post(client, InternalPath.killTask, kill)
                #expect(answer.status == .accepted)
            }
            #expect(fixture.messenger.statuses(of: TaskID("nope")).isEmpty)
        }
    }

    @Test("GET_FLAGS lists the flags and the isolation; GET_STATE lists a launching task, its executor and framework")
    func operatorShapes() async throws {
        try await AgentFixture.with { fixture in
            try await Self.application(fixture).test(.router) { client in
                let flags = try await Self.post(client, "/api/v1", #"{"type":"GET_FLAGS"}"#)
                #expect(flags.status == .ok)
                let response = try MesosJSON.decode(AgentOperatorResponse.self, from: Data(flags.text.utf8))
                let names = Dictionary((response.getFlags?.flags ?? []).map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
                #expect(names["work_dir"] == fixture.workDir)
                #expect(names["isolation"] == "none")
                #expect(names["isolation_unavailable"] == "cgroups: not used by these tests")

                let run = try await Self.post(client, InternalPath.runTask, try Self.runTask(AgentFixture.task("listed", image: "registry.test/stalled:1")))
                #expect(run.status == .accepted)
                let stateText = try await Self.post(client, "/api/v1", #"{"type":"GET_STATE"}"#)
                #expect(stateText.status == .ok)
                #expect(stateText.text.contains(#""get_state""#) && stateText.text.contains(#""launched_tasks""#), "\(stateText.text)")
                let state = try #require(try MesosJSON.decode(AgentOperatorResponse.self, from: Data(stateText.text.utf8)).getState)
                let task = try #require(state.getTasks?.launchedTasks.first)
                #expect(task.taskID == TaskID("listed") && [.taskStaging, .taskStarting].contains(task.state))
                #expect(state.getExecutors?.executors.map(\.executorInfo.executorID) == [ExecutorID("listed")])
                #expect(state.getFrameworks?.frameworks.map(\.frameworkInfo.id) == [AgentFixture.frameworkID])
            }
        }
    }
}
