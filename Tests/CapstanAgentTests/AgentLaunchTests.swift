import CapstanAPI
import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc
import Synchronization
import Testing

@testable import CapstanAgent

/// The result of a call run in a task of its own.
final class Outcome<T: Sendable>: Sendable {
    let result = Mutex<Result<T, any Error>?>(nil)
}

/// Runs `body` in a task of its own and waits (polling) until it has finished; fails after `timeout` rather than hang
/// on a call that does not return (the task is left to end when the test tears down).
func completes<T: Sendable>(
    _ what: String, within timeout: Duration = .seconds(20), _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let outcome = Outcome<T>()
    Task {
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        outcome.result.withLock { $0 = result }
    }
    try await eventually(what, timeout: timeout, interval: .milliseconds(20)) { outcome.result.withLock { $0 != nil } }
    return try outcome.result.withLock { $0! }.get()
}

/// The agent's launch flow, driven on the actor: run-task returns once the task is recorded, the launch runs in a task
/// the agent tracks, and a kill, a shutdown or a failure during it ends the task as Mesos' agent would.
@Suite("Agent launches")
struct AgentLaunchTests {
    static let image = "registry.test/stalled:1"

    @Test("An image task's run-task returns while its pull stalls; the executor is launching, and the task runs once the pull ends")
    func runTaskReturnsBeforeThePull() async throws {
        try await AgentFixture.with { fixture in
            let task = AgentFixture.task("slow-pull", image: Self.image)
            let agent = fixture.agent
            try await completes("run-task returning while the pull stalls") {
                try await agent.runTask(RunTaskMessage(framework: AgentFixture.framework, task: task))
            }
            try await eventually("the pull started") { fixture.provisioner.started.count == 1 }
            #expect(await fixture.executorState("slow-pull") == "launching")
            try await fixture.update("slow-pull", .taskStarting)
            let state = try await agent.operatorCall(AgentOperatorCall(type: .getState)).getState
            #expect(state?.getTasks?.launchedTasks.map(\.taskID) == [TaskID("slow-pull")], "the launching task is reported")

            fixture.provisioner.gate.open()
            let running = try await fixture.update("slow-pull", .taskRunning)
            #expect(running.containerStatus?.containerID != nil)
            #expect(await fixture.executorState("slow-pull") == "running")
            #expect(fixture.messenger.statuses(of: TaskID("slow-pull")).map(\.state) == [.taskStarting, .taskRunning])
        }
    }

    @Test("A kill during a stalled launch is TASK_KILLED at once; the container is cleaned up when the launch returns")
    func killDuringStalledLaunch() async throws {
        try await AgentFixture.with { fixture in
            let agent = fixture.agent
            try await agent.runTask(RunTaskMessage(framework: AgentFixture.framework, task: AgentFixture.task("killed", image: Self.image)))
            try await eventually("the pull started") { fixture.provisioner.started.count == 1 }
            try await completes("the kill returning while the pull stalls") {
                await agent.killTask(KillTaskMessage(frameworkID: AgentFixture.frameworkID, taskID: TaskID("killed")))
            }
            let killed = try await fixture.update("killed", .taskKilled)
            #expect(killed.source == .sourceAgent)
            #expect(killed.message?.contains("launching") == true, "\(killed.message ?? "")")
            #expect(await fixture.executorState("killed") == "terminating", "the launch is still under way")
            let containerID = try #require(fixture.provisioner.started.first)

            fixture.provisioner.gate.open()
            try await eventually("the container cleaned up") {
                await fixture.containerizer.containers().isEmpty && fixture.provisioner.released.contains(containerID)
            }
            try await eventually("the executor finished") { await fixture.executorState("killed") == nil }
            #expect(!fixture.messenger.statuses(of: TaskID("killed")).contains { $0.state == .taskRunning })
        }
    }

    @Test("A launch that fails after run-task returned reaches the framework as TASK_FAILED naming the image and the cause")
    func launchFailureIsAStatusUpdate() async throws {
        try await AgentFixture.with(provisioner: GatedProvisioner(failure: "manifest unknown (HTTP 404)")) { fixture in
            fixture.provisioner.gate.open()
            try await fixture.agent.runTask(RunTaskMessage(framework: AgentFixture.framework, task: AgentFixture.task("missing", image: Self.image)))
            let failed = try await fixture.update("missing", .taskFailed)
            #expect(failed.reason == .reasonContainerLaunchFailed)
            #expect(failed.source == .sourceAgent)
            let message = failed.message ?? ""
            #expect(message.contains("docker://\(Self.image)") && message.contains("404"), "\(message)")
            try await eventually("the executor finished") { await fixture.executorState("missing") == nil }
            #expect(await fixture.containerizer.containers().isEmpty)
        }
    }

    @Test("Shutting the framework down during a stalled launch returns at once, kills the task, and leaves no container")
    func shutdownDuringStalledLaunch() async throws {
        try await AgentFixture.with { fixture in
            let agent = fixture.agent
            try await agent.runTask(RunTaskMessage(framework: AgentFixture.framework, task: AgentFixture.task("shut", image: Self.image)))
            try await eventually("the pull started") { fixture.provisioner.started.count == 1 }
            try await fixture.update("shut", .taskStarting)
            try await completes("the shutdown returning while the pull stalls") {
                await agent.shutdownFramework(AgentFixture.frameworkID)
            }
            #expect(fixture.messenger.statuses(of: TaskID("shut")).last?.state == .taskKilled)
            fixture.provisioner.gate.open()
            try await eventually("the container cleaned up") { await fixture.containerizer.containers().isEmpty }
            #expect(!fixture.messenger.statuses(of: TaskID("shut")).contains { $0.state == .taskRunning })
        }
    }

    @Test("A command task goes STARTING, RUNNING, KILLED while its executor goes launching, running, terminating, finished")
    func commandTaskStates() async throws {
        try await AgentFixture.with { fixture in
            let agent = fixture.agent
            try await agent.runTask(RunTaskMessage(framework: AgentFixture.framework, task: AgentFixture.task("plain")))
            #expect(await fixture.executorState("plain") == "launching")
            try await fixture.update("plain", .taskRunning)
            #expect(await fixture.executorState("plain") == "running")
            let pid = try #require(await agent.executor(AgentFixture.frameworkID, ExecutorID("plain"))?.state.pid)
            #expect(kill(pid, 0) == 0, "the task's process runs")

            await agent.killTask(KillTaskMessage(frameworkID: AgentFixture.frameworkID, taskID: TaskID("plain")))
            try await fixture.update("plain", .taskKilled)
            try await eventually("the executor finished") { await fixture.executorState("plain") == nil }
            #expect(fixture.messenger.statuses(of: TaskID("plain")).map(\.state) == [.taskStarting, .taskRunning, .taskKilled])
            #expect(await fixture.containerizer.containers().isEmpty)
        }
    }

    @Test("A kill that comes before the launch first runs ends the task TASK_KILLED, never STARTING, and launches nothing")
    func killBeforeTheLaunchRuns() async throws {
        try await AgentFixture.with { fixture in
            try await fixture.agent.runThenKillInOneTurn(
                RunTaskMessage(framework: AgentFixture.framework, task: AgentFixture.task("early", image: Self.image)),
                KillTaskMessage(frameworkID: AgentFixture.frameworkID, taskID: TaskID("early")))
            try await fixture.update("early", .taskKilled)
            try await eventually("the executor finished") { await fixture.executorState("early") == nil }
            #expect(fixture.messenger.statuses(of: TaskID("early")).map(\.state) == [.taskKilled])
            #expect(fixture.provisioner.started.isEmpty)
            #expect(await fixture.containerizer.containers().isEmpty)
        }
    }

    @Test("A second run-task for a task the agent runs is ignored")
    func duplicateRunTask() async throws {
        try await AgentFixture.with { fixture in
            let message = RunTaskMessage(framework: AgentFixture.framework, task: AgentFixture.task("once", image: Self.image))
            try await fixture.agent.runTask(message)
            try await fixture.agent.runTask(message)
            try await eventually("the pull started") { fixture.provisioner.started.count == 1 }
            try await Task.sleep(for: .milliseconds(200))
            #expect(fixture.provisioner.started.count == 1, "one launch")
        }
    }
}

extension Agent {
    /// Run-task and kill-task in one turn of the actor, so that the kill comes before the launch task first runs.
    func runThenKillInOneTurn(_ run: RunTaskMessage, _ kill: KillTaskMessage) async throws {
        try runTask(run)
        await killTask(kill)
    }
}
