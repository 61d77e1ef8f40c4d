import CapstanContainerizer
import CapstanCore
import Foundation
import Glibc
import Testing

/// The calls fake isolators saw, across isolators, in order.
actor EventLog {
    private(set) var events: [String] = []
    private(set) var isolatedPIDs: [Int32] = []
    private(set) var executableAtIsolate: [String] = []
    private(set) var recovered: [ContainerRecoveryState] = []

    func record(_ event: String) { events.append(event) }
    func recordIsolate(_ name: String, pid: Int32) {
        events.append("isolate \(name)")
        isolatedPIDs.append(pid)
        executableAtIsolate.append(executable(of: pid))
    }
    func recordRecover(_ name: String, _ states: [ContainerRecoveryState]) {
        events.append("recover \(name)")
        recovered = states
    }
    /// The events without the `watch` ones, whose timing relative to others is not fixed.
    var phases: [String] { events.filter { !$0.hasPrefix("watch") } }
}

/// `/proc/<pid>/exe`, resolved.
func executable(of pid: Int32) -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? "?"
}

/// A scriptable isolator that records every phase in an ``EventLog``.
struct FakeIsolator: Isolator {
    let name: String
    let log: EventLog
    var hooks: LaunchHooks? = nil
    var prepareDelay: Duration = .zero
    var failPrepare = false
    var failIsolate = false
    /// Reported by `watch` after the delay; without it, `watch` waits until cancelled.
    var limitation: (ContainerLimitation, Duration)? = nil
    var measured: ResourceStatistics? = nil

    func prepare(_ config: ContainerConfig) async throws -> LaunchHooks? {
        await log.record("prepare \(name)")
        if prepareDelay > .zero { try await Task.sleep(for: prepareDelay) }
        if failPrepare { throw CapstanError(.unavailable, "no cgroup for you") }
        return hooks
    }

    func isolate(_ id: ContainerID, pid: Int32) async throws {
        await log.recordIsolate(name, pid: pid)
        if failIsolate { throw CapstanError(.permissionDenied, "cannot move pid \(pid)") }
    }

    func update(_ id: ContainerID, limits: ResourceLimits) async throws {
        await log.record("update \(name) \(limits.memBytes ?? 0)")
    }

    func usage(_ id: ContainerID) async throws -> ResourceStatistics? { measured }

    func watch(_ id: ContainerID) async -> ContainerLimitation? {
        if let (limitation, delay) = limitation {
            try? await Task.sleep(for: delay)
            return Task.isCancelled ? nil : limitation
        }
        try? await Task.sleep(for: .seconds(3600))
        await log.record("watch \(name) ended")
        return nil
    }

    func cleanup(_ id: ContainerID) async throws {
        await log.record("cleanup \(name)")
    }

    func recover(_ states: [ContainerRecoveryState]) async throws {
        await log.recordRecover(name, states)
    }
}

@Suite("Containerizer with isolators")
struct ContainerizerIsolatorTests {
    @Test func phasesRunInOrderAndIsolateComesBeforeTheTaskExecs() async throws {
        try await Sandbox.with { sandbox in
            let log = EventLog()
            let a = FakeIsolator(name: "a", log: log, hooks: LaunchHooks(environment: ["FROM_A": "a", "SHARED": "a"]))
            let b = FakeIsolator(name: "b", log: log, hooks: LaunchHooks(environment: ["SHARED": "b"]))
            let containerizer = makeContainerizer(isolators: [a, b])
            let config = sandbox.config("echo $FROM_A $SHARED")
            try await containerizer.launch(config)
            let pid = await containerizer.pid(of: config.containerID)
            let termination = try await within { try await containerizer.wait(config.containerID) }
            #expect(termination.exitStatus == 0)
            #expect(await log.phases == ["prepare a", "prepare b", "isolate a", "isolate b", "cleanup b", "cleanup a"])
            #expect(await log.isolatedPIDs == [pid, pid])
            // At isolate time the process was still the forked agent, not yet the shell.
            let ownExecutable = executable(of: getpid())
            #expect(await log.executableAtIsolate == [ownExecutable, ownExecutable])
            #expect(sandbox.read("stdout") == "a b\n")
            #expect(await eventually { await log.events.contains("watch a ended") })
            #expect(await eventually { await log.events.contains("watch b ended") })
        }
    }

    @Test func aFailingIsolateFailsTheLaunchKillsTheProcessAndCleansUpEveryIsolator() async throws {
        try await Sandbox.with { sandbox in
            let log = EventLog()
            let a = FakeIsolator(name: "a", log: log)
            let b = FakeIsolator(name: "failing", log: log, failIsolate: true)
            let containerizer = makeContainerizer(isolators: [a, b])
            let config = sandbox.config("touch ran; sleep 1000")
            let error = await #expect(throws: CapstanError.self) { try await containerizer.launch(config) }
            #expect(error?.code == .permissionDenied)
            #expect(error?.message.hasPrefix("Failed to launch: isolator 'failing' failed to isolate: cannot move pid") == true)
            #expect(await log.phases == ["prepare a", "prepare failing", "isolate a", "isolate failing", "cleanup failing", "cleanup a"])
            let pid = try #require(await log.isolatedPIDs.first)
            #expect(await eventually { isGone(pid) })
            #expect(!sandbox.exists("ran"))
            #expect(await containerizer.containers().isEmpty)
            #expect(try await containerizer.wait(config.containerID).message == error?.message)
        }
    }

    @Test func aFailingPrepareStartsNothingAndCleansUpEveryIsolator() async throws {
        try await Sandbox.with { sandbox in
            let log = EventLog()
            let a = FakeIsolator(name: "a", log: log, failPrepare: true)
            let b = FakeIsolator(name: "b", log: log)
            let containerizer = makeContainerizer(isolators: [a, b])
            let config = sandbox.config("touch ran")
            let error = await #expect(throws: CapstanError.self) { try await containerizer.launch(config) }
            #expect(error?.message == "Failed to launch: isolator 'a' failed to prepare: no cgroup for you")
            #expect(error?.code == .unavailable)
            #expect(await log.phases == ["prepare a", "cleanup b", "cleanup a"])
            #expect(!sandbox.exists("ran") && !sandbox.exists("stdout"))
        }
    }

    @Test func aLimitationFromWatchEndsTheContainerAndIsReported() async throws {
        try await Sandbox.with { sandbox in
            let log = EventLog()
            let limitation = ContainerLimitation(resource: .memory, message: "Memory limit of 64 MiB exceeded")
            let memory = FakeIsolator(name: "mem", log: log, limitation: (limitation, .milliseconds(200)))
            let containerizer = makeContainerizer(isolators: [memory])
            let config = sandbox.config("sleep 1000")
            try await containerizer.launch(config)
            let termination = try await within { try await containerizer.wait(config.containerID) }
            #expect(
                termination
                    == ContainerTermination(
                        signal: SIGKILL, killed: false, message: "Memory limit of 64 MiB exceeded", limitation: limitation))
            #expect(await log.phases.last == "cleanup mem")
        }
    }

    @Test func usageLaysIsolatorMeasurementsOverTheLaunchers() async throws {
        try await Sandbox.with { sandbox in
            let log = EventLog()
            let measured = ResourceStatistics(timestamp: 0, memRSSBytes: 12345)
            let containerizer = makeContainerizer(isolators: [FakeIsolator(name: "mem", log: log, measured: measured)])
            let config = sandbox.config("sleep 1000")
            try await containerizer.launch(config)
            let usage = try await containerizer.usage(config.containerID)
            #expect(usage.memRSSBytes == 12345)
            #expect(usage.cpusUserTimeSecs != nil && (usage.processes ?? 0) >= 1)
            #expect(usage.timestamp > 0)
            _ = await containerizer.destroy(config.containerID, gracePeriod: .zero)
        }
    }

    @Test func updateReachesEveryIsolator() async throws {
        try await Sandbox.with { sandbox in
            let log = EventLog()
            let containerizer = makeContainerizer(isolators: [FakeIsolator(name: "a", log: log), FakeIsolator(name: "b", log: log)])
            let config = sandbox.config("sleep 1000")
            try await containerizer.launch(config)
            try await containerizer.update(config.containerID, limits: ResourceLimits(cpus: 1, memBytes: 64))
            #expect(await log.phases.suffix(2) == ["update a 64", "update b 64"])
            _ = await containerizer.destroy(config.containerID, gracePeriod: .zero)
            let error = await #expect(throws: CapstanError.self) {
                try await containerizer.update(config.containerID, limits: ResourceLimits())
            }
            #expect(error?.code == .notFound)
        }
    }

    @Test func destroyWhileLaunchingAbortsTheLaunch() async throws {
        try await Sandbox.with { sandbox in
            let log = EventLog()
            let slow = FakeIsolator(name: "slow", log: log, prepareDelay: .milliseconds(300))
            let containerizer = makeContainerizer(isolators: [slow])
            let config = sandbox.config("touch ran; sleep 1000")
            let launch = Task { try await containerizer.launch(config) }
            #expect(await eventually { await log.events.contains("prepare slow") })
            let termination = await containerizer.destroy(config.containerID, gracePeriod: .seconds(5))
            #expect(termination?.killed == true)
            let error = await #expect(throws: CapstanError.self) { try await launch.value }
            #expect(error?.code == .conflict)
            #expect(await log.phases == ["prepare slow", "cleanup slow"])
            #expect(!sandbox.exists("ran"))
        }
    }
}
