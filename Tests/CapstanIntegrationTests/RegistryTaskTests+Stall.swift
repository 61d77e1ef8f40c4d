import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd.RegistryTaskTests {
    @Test("Image tasks whose blob download stalls past the master's 10 s request timeout to the agent still run, and one killed during the stall is TASK_KILLED at once")
    func stalledPull() async throws {
        var stalling: StallingProxy?
        defer { stalling?.stop() }
        try await Self.withRegistryAgent(
            basicAuth: false,
            agentFlags: { registry, _ in
                let proxy = try StallingProxy(upstreamPort: registry.port)
                stalling = proxy
                return ["--insecure-registry", proxy.host]
            }
        ) { scheduler, offer, _, workDir in
            let proxy = try #require(stalling)
            let image = "\(proxy.host)/busybox:test"
            let slow = Self.busyboxTask("stalled-pull", "echo ran-after-the-stall; sleep 600", image: image, agent: offer.agentID)
            let killed = Self.busyboxTask("killed-in-pull", "sleep 600", image: image, agent: offer.agentID)
            try await scheduler.launch([slow, killed], on: [offer])
            try await eventually("the agent's blob download held by the proxy", timeout: .seconds(60)) { proxy.stalledDownloads > 0 }
            let stalledAt = ContinuousClock.now
            try await scheduler.update("stalled-pull", .taskStarting, timeout: .seconds(30))
            try await scheduler.update("killed-in-pull", .taskStarting, timeout: .seconds(30))

            // The kill reaches the agent and ends the task while its pull is still held.
            try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: "killed-in-pull", agentID: offer.agentID)))
            let killedStatus = try await scheduler.update("killed-in-pull", .taskKilled, timeout: .seconds(30))
            #expect(killedStatus.source == .sourceAgent, "\(killedStatus)")

            // Past the master's request timeout (10 s) the other task is still launching, then runs once the pull ends.
            try await Task.sleep(until: stalledAt + .seconds(12))
            #expect(proxy.stalledDownloads > 0)
            proxy.release()
            try await scheduler.update("stalled-pull", .taskRunning, timeout: .seconds(60))
            try await eventually("the task's output", timeout: .seconds(20)) {
                (try? Self.stdout(of: "stalled-pull", agentWorkDir: workDir))?.contains("ran-after-the-stall") == true
            }
            try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: "stalled-pull", agentID: offer.agentID)))
            try await scheduler.update("stalled-pull", .taskKilled, timeout: .seconds(30))
            let ranAfterKill = try? await scheduler.any("TASK_RUNNING of the killed task", timeout: .milliseconds(10)) {
                $0.update?.status.taskID == "killed-in-pull" && $0.update?.status.state == .taskRunning
            }
            #expect(ranAfterKill == nil, "a task killed during its launch never runs")
        }
    }
}
