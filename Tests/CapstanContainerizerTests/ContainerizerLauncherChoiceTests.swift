import CapstanContainerizer
import CapstanCore
import Foundation
import Glibc
import Testing

/// A launcher that records which containers it was handed, and runs them as plain processes (without their rootfs).
struct RecordingLauncher: Launcher {
    let name: String
    let log: EventLog
    let inner = PosixLauncher(logger: quietLogger)

    func start(
        _ config: ContainerConfig, hooks: LaunchHooks,
        started: @Sendable (LaunchedProcess) async throws -> Void,
        place: @Sendable (Int32) async throws -> Void
    ) async throws -> LaunchedProcess {
        await log.record("launch \(name) \(config.containerID)")
        if case .layers(let layers)? = config.rootfs { await log.record("rootfs \(layers) user \(config.imageConfig?.user ?? "-")") }
        var plain = config
        plain.rootfs = nil
        return try await inner.start(plain, hooks: hooks, started: started, place: place)
    }

    func signal(_ process: LaunchedProcess, _ signal: Int32) throws { try inner.signal(process, signal) }
    func wait(_ process: LaunchedProcess) async -> ContainerTermination { await inner.wait(process) }
    func usage(_ process: LaunchedProcess) async throws -> ResourceStatistics? { try await inner.usage(process) }

    func recover(_ states: [ContainerRecoveryState]) async throws -> [ContainerID: LaunchedProcess] {
        await log.record("recover \(name) \(states.map(\.containerID.value).sorted())")
        var plain = states
        for index in plain.indices { plain[index].config.rootfs = nil }
        return try await inner.recover(plain)
    }
}

@Suite("Containerizer launcher choice")
struct ContainerizerLauncherChoiceTests {
    @Test func aContainerWithoutRootfsRunsThroughTheLauncherAndOneWithARootfsThroughTheRootfsLauncherBothIsolated() async throws {
        try await Sandbox.with { sandbox in
            let log = EventLog()
            let containerizer = Containerizer(
                launcher: RecordingLauncher(name: "plain", log: log), rootfsLauncher: RecordingLauncher(name: "rootfs", log: log),
                isolators: [FakeIsolator(name: "cgroups", log: log)], logger: quietLogger)
            let plain = sandbox.config("exit 0")
            var boxed = sandbox.config("exit 0")
            boxed.rootfs = .directory("/")
            for config in [plain, boxed] {
                try await containerizer.launch(config)
                #expect(try await within { try await containerizer.wait(config.containerID) }.exitStatus == 0)
            }
            let events = await log.phases
            #expect(events.filter { $0.hasPrefix("launch") } == ["launch plain \(plain.containerID)", "launch rootfs \(boxed.containerID)"])
            #expect(events.filter { $0 == "isolate cgroups" }.count == 2, "both containers are isolated: \(events)")
            #expect(events.filter { $0 == "cleanup cgroups" }.count == 2, "\(events)")
        }
    }

    @Test func aContainerOnNetworksGoesToTheRootfsLauncherAndIsRefusedWithoutOne() async throws {
        try await Sandbox.with { sandbox in
            let log = EventLog()
            var config = sandbox.config("exit 0")
            config.networks = [ContainerNetwork(name: "storage-net")]
            let networked = config
            let both = Containerizer(
                launcher: RecordingLauncher(name: "plain", log: log), rootfsLauncher: RecordingLauncher(name: "rootfs", log: log),
                isolators: [], logger: quietLogger)
            try await both.launch(networked)
            _ = try await within { try await both.wait(networked.containerID) }
            #expect(await log.phases.filter { $0.hasPrefix("launch") } == ["launch rootfs \(networked.containerID)"])

            let plainOnly = Containerizer(launcher: RecordingLauncher(name: "plain", log: log), isolators: [], logger: quietLogger)
            var failure: (any Error)?
            do { try await plainOnly.launch(networked) } catch { failure = error }
            #expect("\(failure.map { "\($0)" } ?? "")".contains("names CNI networks, which need the Linux launcher"))
        }
    }

    @Test func recoveryHandsEachLauncherTheContainersItStarted() async throws {
        try await Sandbox.with { sandbox in
            let log = EventLog()
            let containerizer = Containerizer(
                launcher: RecordingLauncher(name: "plain", log: log), rootfsLauncher: RecordingLauncher(name: "rootfs", log: log),
                isolators: [], logger: quietLogger)
            let plain = sandbox.config("exit 0")
            var boxed = sandbox.config("exit 0")
            boxed.rootfs = .layers(["/nonexistent"])
            try await containerizer.recover([
                ContainerRecoveryState(containerID: plain.containerID, pid: nil, config: plain),
                ContainerRecoveryState(containerID: boxed.containerID, pid: nil, config: boxed),
            ])
            let events = await log.phases
            #expect(events.contains("recover rootfs [\"\(boxed.containerID.value)\"]"), "\(events)")
            #expect(events.contains("recover plain [\"\(plain.containerID.value)\"]"), "\(events)")
        }
    }

    @Test func aCommandForAPlainContainerRunsAsItIsAndAnUnknownContainerCannotBeEntered() async throws {
        try await Sandbox.with { sandbox in
            let containerizer = makeContainerizer()
            let config = sandbox.config("sleep 30")
            try await containerizer.launch(config)
            let check = CommandSpec(shell: true, value: "test -f marker", environment: ["A": "b"])
            #expect(try await containerizer.commandInside(config.containerID, check) == check, "a plain container shares the host's")
            #expect(await containerizer.namespaces(of: config.containerID) == containerizer.pid(of: config.containerID))
            await #expect(throws: CapstanError.self) { try await containerizer.commandInside(ContainerID("nope"), check) }
            _ = await containerizer.destroy(config.containerID, gracePeriod: .zero)
            #expect(await containerizer.namespaces(of: config.containerID) == nil)
        }
    }

    @Test func thePlainLauncherRefusesARootFilesystemInsteadOfIgnoringIt() async throws {
        try await Sandbox.with { sandbox in
            let containerizer = makeContainerizer()
            var config = sandbox.config("exit 0")
            config.rootfs = .directory("/")
            await #expect(throws: CapstanError.self) { try await containerizer.launch(config) }
            let termination = try await containerizer.wait(config.containerID)
            #expect(termination.message.contains("cannot give a container a root filesystem"), "\(termination)")
        }
    }
}
