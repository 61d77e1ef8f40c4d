import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc
import Testing

/// The monitor (`capstan-init --task-monitor`) that PosixLauncher puts in front of a plain task when it has a state
/// directory, so that the task's exit status outlives the agent.
@Suite("PosixLauncher task monitor")
struct TaskMonitorTests {
    static var monitorMissing: Bool { access(LinuxLauncher.defaultInitPath(), X_OK) != 0 }

    /// A launcher with a state directory, the sandbox's config for `shell`, and a fresh scratch state directory.
    static func withMonitoredLauncher(
        _ body: (_ sandbox: Sandbox, _ state: String, _ launcher: PosixLauncher) async throws -> Void
    ) async throws {
        try #require(!monitorMissing, "capstan-init at \(LinuxLauncher.defaultInitPath()) (swift build builds it)")
        try await Sandbox.with { sandbox in
            let state = "/tmp/capstan-monitor-test-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: state) }
            try await body(sandbox, state, PosixLauncher(logger: quietLogger, stateDirectory: state))
        }
    }

    @Test("A task that ends while its launcher is gone reports its real exit status to the next launcher")
    func exitStatusOutlivesTheLauncher() async throws {
        try await Self.withMonitoredLauncher { sandbox, state, first in
            let config = sandbox.config("while [ ! -e release ]; do sleep 0.05; done; exit 3")
            let process = try await first.launch(config, hooks: LaunchHooks())
            try await first.resume(process)
            // The task runs under its monitor, which leads the session; the monitor is not the shell itself.
            let monitorCmdline = (try? String(contentsOfFile: "/proc/\(process.pid)/cmdline", encoding: .utf8)) ?? ""
            #expect(monitorCmdline.contains("--task-monitor"), "\(monitorCmdline)")

            FileManager.default.createFile(atPath: sandbox.path + "/release", contents: Data())
            let statusFile = "\(state)/\(config.containerID).exit_status"
            try await within { while !FileManager.default.fileExists(atPath: statusFile) { try await Task.sleep(for: .milliseconds(20)) } }
            try await within { while !isGone(process.pid) { try await Task.sleep(for: .milliseconds(20)) } }

            // A restarted agent: a new launcher on the same state directory finds the monitor gone and reads the status.
            let second = PosixLauncher(logger: quietLogger, stateDirectory: state)
            let recovery = ContainerRecoveryState(
                containerID: config.containerID, pid: process.pid, config: config, startTicks: process.startTicks)
            #expect(try await second.recover([recovery]).isEmpty)
            let kept = await second.recoveredTermination(of: recovery)
            #expect(kept?.exitStatus == 3, "\(String(describing: kept))")
            #expect(!FileManager.default.fileExists(atPath: statusFile), "the status is removed once read")

            // The first launcher, the monitor's parent, still collects it with the task's status.
            let reaped = await first.wait(process)
            #expect(reaped.exitStatus == 3, "\(reaped)")
        }
    }

    @Test("A task adopted by a new launcher while it runs reports its real exit status when it ends")
    func adoptedTaskReportsItsExitStatus() async throws {
        try await Self.withMonitoredLauncher { sandbox, state, first in
            let config = sandbox.config("while [ ! -e release ]; do sleep 0.05; done; exit 4")
            let process = try await first.launch(config, hooks: LaunchHooks())
            try await first.resume(process)
            let second = PosixLauncher(logger: quietLogger, stateDirectory: state)
            let recovery = ContainerRecoveryState(
                containerID: config.containerID, pid: process.pid, config: config, startTicks: process.startTicks)
            let adopted = try #require(try await second.recover([recovery])[config.containerID])
            let waiting = Task { await second.wait(adopted) }
            FileManager.default.createFile(atPath: sandbox.path + "/release", contents: Data())
            let termination = try await within { await waiting.value }
            #expect(termination.exitStatus == 4, "before: 'Command exited with an unknown status': \(termination)")
            _ = await first.wait(process)
        }
    }

    @Test("Signals to the session end the task, not its monitor, and the monitor ends the same way")
    func signalsReachTheTaskAndTheMonitorEndsAlike() async throws {
        try await Self.withMonitoredLauncher { sandbox, _, launcher in
            let config = sandbox.config("echo started; sleep 600")
            let process = try await launcher.launch(config, hooks: LaunchHooks())
            try await launcher.resume(process)
            try await within { while sandbox.read("stdout").isEmpty { try await Task.sleep(for: .milliseconds(20)) } }
            try launcher.signal(process, SIGTERM)
            let termination = try await within { await launcher.wait(process) }
            #expect(termination.signal == SIGTERM, "\(termination)")
        }
    }

    @Test(Prerequisites.requires("switching users", .root("switching users needs it")))
    func monitoredTaskRunsAsItsUserWithItsLoginVariables() async throws {
        try Prerequisites.require(.root("switching users needs it"))
        try await Self.withMonitoredLauncher { sandbox, _, launcher in
            let config = sandbox.config("id -u; id -G; echo \"$HOME $USER $LOGNAME\"; touch mine", user: "nobody")
            let process = try await launcher.launch(config, hooks: LaunchHooks())
            try await launcher.resume(process)
            let termination = try await within { await launcher.wait(process) }
            #expect(termination.exitStatus == 0, "\(sandbox.read("stderr"))")
            let nobodyHome = String(cString: getpwnam("nobody").pointee.pw_dir)
            #expect(sandbox.read("stdout") == "65534\n65534\n\(nobodyHome) nobody nobody\n")
            var info = stat()
            #expect(stat("\(sandbox.path)/mine", &info) == 0 && info.st_uid == 65534)
        }
    }

    @Test(Prerequisites.requires("switching users", .root("switching users needs it")))
    func aSandboxTheUserCannotReachFailsTheLaunchNamingTheUser() async throws {
        try Prerequisites.require(.root("switching users needs it"))
        try await Self.withMonitoredLauncher { _, _, launcher in
            let hidden = "/tmp/capstan-hidden-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: hidden + "/sandbox", withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: hidden) }
            chmod(hidden, 0o700)
            let config = ContainerConfig(
                containerID: ContainerID("c-\(UUID().uuidString.prefix(8))"),
                command: CommandSpec(value: "true", environment: ["PATH": "/usr/bin:/bin"], user: "nobody"),
                sandboxDirectory: hidden + "/sandbox")
            let process = try await launcher.launch(config, hooks: LaunchHooks())
            let failure = await #expect(throws: CapstanError.self) { try await launcher.resume(process) }
            #expect(failure?.message.contains("chdir '\(hidden)/sandbox' as user 'nobody'") == true, "\(String(describing: failure))")
            _ = await launcher.wait(process)
        }
    }
}
