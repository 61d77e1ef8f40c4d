import CapstanAPI
import CapstanCore
import CapstanHTTP
import Logging
import Testing

@testable import CapstanAgent

/// The executor's state machine on its own: what each transition does in each state, with no agent around it.
@Suite("ExecutorState")
struct ExecutorStateTests {
    static func launching() -> ExecutorState { .launching(task: Task {}) }
    static func stream() -> StreamSubscriber<ExecutorEvent> { StreamSubscriber<ExecutorEvent>(limit: 1 << 20) }

    @Test("A launch that returns makes the executor running with its pid; a kill then makes it terminating, once")
    func launchedThenKilled() {
        var state = Self.launching()
        #expect(state.isLaunching && state.pid == nil)
        let runsOn = state.launched(pid: 42)
        #expect(runsOn)
        #expect(state.name == "running" && state.pid == 42 && !state.isLaunching)
        guard case .destroy = state.requestKill() else { Issue.record("a running executor is destroyed"); return }
        #expect(state.isTerminating && state.pid == 42)
        guard case .alreadyTerminating = state.requestKill() else { Issue.record("a second kill destroys again"); return }
        let ran = state.terminate()
        #expect(ran?.pid == 42)
        #expect(state.isTerminated && state.pid == nil)
        guard case .none = state.requestKill() else { Issue.record("nothing is left to kill"); return }
    }

    @Test("A kill during the launch cancels it; when the launch returns the executor does not run on, and keeps the pid to destroy")
    func killedWhileLaunching() {
        let launch = Task {}
        var state = ExecutorState.launching(task: launch)
        guard case .cancelLaunch = state.requestKill() else { Issue.record("a launching executor's launch is cancelled"); return }
        #expect(state.isTerminating && state.isLaunching && state.runtime == nil)
        let runsOn = state.launched(pid: 7)
        #expect(!runsOn)
        #expect(state.isTerminating && !state.isLaunching && state.pid == 7)
        guard case .alreadyTerminating = state.requestKill() else { Issue.record("a second kill destroys again"); return }
    }

    @Test("An executor that subscribes before its launch returned is running, and keeps its stream when the launch returns")
    func subscribedBeforeLaunchReturned() throws {
        var state = Self.launching()
        let first = Self.stream()
        let none = try state.subscribed(first, executorID: ExecutorID("e"))
        #expect(none == nil)
        #expect(state.name == "running" && state.connection === first)
        let runsOn = state.launched(pid: 9)
        #expect(runsOn)
        #expect(state.connection === first && state.pid == 9)
        let second = Self.stream()
        let earlier = try state.subscribed(second, executorID: ExecutorID("e"))
        #expect(earlier === first, "the earlier stream is handed back to be finished")
        state.disconnected()
        #expect(state.connection == nil && state.pid == 9)
    }

    @Test("A terminated executor refuses a subscription; a health checker is kept only while the executor runs")
    func terminatedAndHealthChecks() throws {
        var state = Self.launching()
        let checker = TaskHealthChecker(
            settings: HealthPolicy.Settings(HealthCheck(type: .tcp, tcp: .init(port: 1))), probe: { _ in .healthy("ok") },
            report: { _, _ in false }, logger: .init(label: "test"))
        state.startedHealthChecks(checker)
        #expect(state.healthChecker == nil, "no checks while launching")
        _ = state.launched(pid: 1)
        state.startedHealthChecks(checker)
        #expect(state.healthChecker === checker)
        _ = state.requestKill()
        #expect(state.healthChecker === checker, "a terminating executor still answers whether its checks killed it")
        state.terminate()
        #expect(throws: CapstanError.self) { try state.subscribed(Self.stream(), executorID: ExecutorID("e")) }
    }
}
