import CapstanContainerizer
import CapstanCore
import Glibc
import Testing

@Suite("Containerizer recovery")
struct ContainerizerRecoveryTests {
    @Test func aRunningContainerIsRecoveredAndCanBeDestroyed() async throws {
        try await Sandbox.with { sandbox in
            let before = makeContainerizer()
            let config = sandbox.config("sleep 1000")
            try await before.launch(config)
            let process = try #require(await before.process(of: config.containerID))
            #expect(process.startTicks != nil)

            // A second containerizer stands for the restarted agent.
            let log = EventLog()
            let after = makeContainerizer(isolators: [FakeIsolator(name: "a", log: log)])
            let state = ContainerRecoveryState(
                containerID: config.containerID, pid: process.pid, config: config, startTicks: process.startTicks)
            try await after.recover([state])
            #expect(await after.containers() == [config.containerID])
            #expect(await after.pid(of: config.containerID) == process.pid)
            #expect(await log.recovered == [state])
            #expect((try await after.usage(config.containerID).processes ?? 0) >= 1)

            let termination = await after.destroy(config.containerID, gracePeriod: .seconds(5))
            #expect(termination?.killed == true)
            #expect(termination?.message == "Command exited with an unknown status (it was recovered after an agent restart)")
            #expect(await log.phases == ["recover a", "cleanup a"])
            // The original parent still collects the real status.
            let original = try await within { try await before.wait(config.containerID) }
            #expect(original.signal == SIGTERM)
        }
    }

    @Test func aContainerGoneAtRecoveryFinishesWithAnUnknownStatus() async throws {
        try await Sandbox.with { sandbox in
            let before = makeContainerizer()
            let config = sandbox.config("exit 0")
            try await before.launch(config)
            let process = try #require(await before.process(of: config.containerID))
            _ = try await within { try await before.wait(config.containerID) }

            let log = EventLog()
            let after = makeContainerizer(isolators: [FakeIsolator(name: "a", log: log)])
            try await after.recover([
                ContainerRecoveryState(containerID: config.containerID, pid: process.pid, config: config, startTicks: process.startTicks)
            ])
            #expect(await after.containers().isEmpty)
            #expect(await log.recovered.map(\.pid) == [nil])
            #expect(await log.phases == ["recover a", "cleanup a"])
            let termination = try await after.wait(config.containerID)
            #expect(termination == ContainerTermination(message: "Command exited while the agent was down; its exit status is unknown"))
        }
    }

    @Test func aReusedPidIsNotMistakenForTheContainer() async throws {
        try await Sandbox.with { sandbox in
            let before = makeContainerizer()
            let config = sandbox.config("sleep 1000")
            try await before.launch(config)
            let process = try #require(await before.process(of: config.containerID))

            let after = makeContainerizer()
            let stale = ContainerRecoveryState(
                containerID: config.containerID, pid: process.pid, config: config, startTicks: (process.startTicks ?? 0) + 1)
            try await after.recover([stale])
            #expect(await after.containers().isEmpty)
            #expect(!isGone(process.pid))
            _ = await before.destroy(config.containerID, gracePeriod: .zero)
        }
    }
}
