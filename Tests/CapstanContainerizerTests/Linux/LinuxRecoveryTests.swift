import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc
import Testing

@Suite("Linux containerizer recovery", .serialized, LinuxPrerequisites.trait)
struct LinuxRecoveryTests {
    /// Launches like a containerizer of an earlier agent run: isolators' prepare and isolate around the launcher,
    /// and the checkpoint the containerizer writes, but nothing in this process waits for or cleans up the container.
    static func launchAsEarlierAgent(
        _ fx: LinuxFixture, _ config: ContainerConfig, isolators: [any Isolator], checkpoints: String
    ) async throws -> LaunchedProcess {
        let launcher = fx.launcher()
        for isolator in isolators { _ = try await isolator.prepare(config) }
        let process = try await launcher.launch(config, hooks: LaunchHooks())
        for pid in [process.pid] + (try await launcher.heldProcesses(process)) {
            for isolator in isolators { try await isolator.isolate(config.containerID, pid: pid) }
        }
        try await launcher.resume(process)
        let state = ContainerRecoveryState(containerID: config.containerID, pid: process.pid, config: config, startTicks: process.startTicks)
        try FileManager.default.createDirectory(atPath: checkpoints, withIntermediateDirectories: true)
        try JSONEncoder().encode(state).write(to: URL(fileURLWithPath: checkpoints + "/\(config.containerID).json"))
        return process
    }

    /// The test process is the monitors' parent (the dead agent's part): reap them as init would. The blocking
    /// waitpid runs on a thread of its own: two of them on the cooperative pool (two threads on a two-core machine)
    /// would starve every other task, the launcher's included, and the monitors would never be told to exit.
    static func reap(_ pid: Int32) -> Task<Void, Never> {
        waitpidOnItsOwnThread(pid)
    }

    @Test func aKnownContainerIsReattachedAndReportsItsExitStatusWhileAnOrphanIsDestroyed() async throws {
        try await LinuxFixture.with { fx in
            let checkpoints = fx.base + "/checkpoints"
            let isolators: [any Isolator] = [try CgroupsMemoryIsolator(), try CgroupsPIDsIsolator()]
            let known = fx.config("touch $MESOS_SANDBOX/ready; while [ ! -e $MESOS_SANDBOX/go ]; do sleep 0.05; done; exit 4")
            let orphan = fx.config("sleep 1000")
            let knownProcess = try await Self.launchAsEarlierAgent(fx, known, isolators: isolators, checkpoints: checkpoints)
            let orphanProcess = try await Self.launchAsEarlierAgent(fx, orphan, isolators: isolators, checkpoints: checkpoints)
            let reapers = [Self.reap(knownProcess.pid), Self.reap(orphanProcess.pid)]
            try await fx.waitFor("ready")
            // A launch that died before its checkpoint left a state directory (and maybe cgroups) behind.
            let leftover = fx.config("true")
            try FileManager.default.createDirectory(atPath: fx.launcher().stateDirectory(of: leftover.containerID), withIntermediateDirectories: true)
            for isolator in isolators { _ = try await isolator.prepare(leftover) }

            let restarted = Containerizer(
                launcher: fx.launcher(), isolators: isolators, logger: quietLogger, checkpointDirectory: checkpoints)
            let recovery = try await restarted.recover(knownContainers: [known.containerID])
            #expect(recovery.recovered == [known.containerID])
            #expect(Set(recovery.orphans) == [orphan.containerID, leftover.containerID])
            #expect(await restarted.containers() == [known.containerID])
            #expect(await restarted.pid(of: known.containerID) == knownProcess.pid)
            #expect(isGone(orphanProcess.pid))
            for id in [orphan.containerID, leftover.containerID] {
                #expect(LinuxFixture.cgroups(of: id).isEmpty, "cgroups of \(id)")
                #expect(!FileManager.default.fileExists(atPath: fx.launcher().stateDirectory(of: id)))
                #expect(!FileManager.default.fileExists(atPath: checkpoints + "/\(id).json"))
            }
            #expect(!LinuxFixture.cgroups(of: known.containerID).isEmpty, "the recovered container keeps its cgroups")

            _ = FileManager.default.createFile(atPath: fx.sandbox + "/go", contents: nil)
            let termination = try await within { try await restarted.wait(known.containerID) }
            for reaper in reapers { _ = await reaper.value }
            #expect(termination.exitStatus == 4, "the status capstan-init kept: \(termination)")
            #expect(termination.message == "Command exited with status 4")
            #expect(LinuxFixture.cgroups(of: known.containerID).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: fx.launcher().stateDirectory(of: known.containerID)))
            #expect(!FileManager.default.fileExists(atPath: checkpoints + "/\(known.containerID).json"))
        }
    }

    @Test func aContainerThatEndedWhileTheAgentWasDownReportsTheKeptStatus() async throws {
        try await LinuxFixture.with { fx in
            let checkpoints = fx.base + "/checkpoints"
            let isolators: [any Isolator] = [try CgroupsPIDsIsolator()]
            let config = fx.config("exit 6")
            let process = try await Self.launchAsEarlierAgent(fx, config, isolators: isolators, checkpoints: checkpoints)
            _ = await Self.reap(process.pid).value

            let restarted = Containerizer(
                launcher: fx.launcher(), isolators: isolators, logger: quietLogger, checkpointDirectory: checkpoints)
            let recovery = try await restarted.recover(knownContainers: [config.containerID])
            #expect(recovery == ContainerRecovery(recovered: [config.containerID], orphans: []))
            #expect(await restarted.containers().isEmpty)
            let termination = try await restarted.wait(config.containerID)
            #expect(termination.exitStatus == 6, "\(termination)")
            #expect(LinuxFixture.cgroups(of: config.containerID).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: fx.launcher().stateDirectory(of: config.containerID)))
            #expect(!FileManager.default.fileExists(atPath: checkpoints + "/\(config.containerID).json"))
        }
    }

    @Test func aMonitorGoneWithoutAStatusFinishesWithAClearMessage() async throws {
        try await LinuxFixture.with { fx in
            let checkpoints = fx.base + "/checkpoints"
            let config = fx.config("sleep 1000")
            let process = try await Self.launchAsEarlierAgent(fx, config, isolators: [], checkpoints: checkpoints)
            // SIGKILL of the monitor itself: it cannot write exit_status.
            kill(process.pid, SIGKILL)
            _ = await Self.reap(process.pid).value
            kill(-process.pid, SIGKILL)

            let restarted = Containerizer(launcher: fx.launcher(), isolators: [], logger: quietLogger, checkpointDirectory: checkpoints)
            _ = try await restarted.recover(knownContainers: [config.containerID])
            let termination = try await restarted.wait(config.containerID)
            #expect(termination.exitStatus == nil && termination.signal == nil)
            #expect(termination.message == "Command exited while the agent was down; its exit status is unknown")
        }
    }

    @Test func aLaunchedContainerIsCheckpointedUntilItEnds() async throws {
        try await LinuxFixture.with { fx in
            let checkpoints = fx.base + "/checkpoints"
            let containerizer = Containerizer(launcher: fx.launcher(), isolators: [], logger: quietLogger, checkpointDirectory: checkpoints)
            let config = fx.config("touch $MESOS_SANDBOX/ready; while [ ! -e $MESOS_SANDBOX/go ]; do sleep 0.05; done")
            try await containerizer.launch(config)
            try await fx.waitFor("ready")
            let data = try Data(contentsOf: URL(fileURLWithPath: checkpoints + "/\(config.containerID).json"))
            let state = try JSONDecoder().decode(ContainerRecoveryState.self, from: data)
            #expect(state.pid == (await containerizer.pid(of: config.containerID)))
            #expect(state.startTicks != nil)
            #expect(state.config == config)
            _ = FileManager.default.createFile(atPath: fx.sandbox + "/go", contents: nil)
            _ = try await within { try await containerizer.wait(config.containerID) }
            #expect(!FileManager.default.fileExists(atPath: checkpoints + "/\(config.containerID).json"))
        }
    }

    @Test func aTornContainerCheckpointStopsRecoveryWithItsPathAndKeepsTheContainer() async throws {
        try await LinuxFixture.with { fx in
            let checkpoints = fx.base + "/checkpoints"
            let containerizer = Containerizer(launcher: fx.launcher(), isolators: [], logger: quietLogger, checkpointDirectory: checkpoints)
            let config = fx.config("touch $MESOS_SANDBOX/ready; while [ ! -e $MESOS_SANDBOX/go ]; do sleep 0.05; done")
            try await containerizer.launch(config)
            try await fx.waitFor("ready")
            let path = checkpoints + "/\(config.containerID).json"
            let whole = try Data(contentsOf: URL(fileURLWithPath: path))
            try whole.prefix(whole.count / 3).write(to: URL(fileURLWithPath: path))

            let restarted = Containerizer(launcher: fx.launcher(), isolators: [], logger: quietLogger, checkpointDirectory: checkpoints)
            let error = await #expect(throws: CapstanError.self) { try await restarted.recover(knownContainers: [config.containerID]) }
            #expect(error?.message.contains("Container checkpoint \(path) is not a whole checkpoint") == true, "\(String(describing: error))")
            #expect(FileManager.default.fileExists(atPath: path), "the torn checkpoint is left for the operator, not deleted")
            #expect(await containerizer.pid(of: config.containerID) != nil, "the container still runs")
            _ = FileManager.default.createFile(atPath: fx.sandbox + "/go", contents: nil)
            _ = try await within { try await containerizer.wait(config.containerID) }
        }
    }
}
