import CapstanContainerizer
import CapstanCore
import Foundation
import Glibc
import Logging

extension HealthProbe {
    /// How a probe's process ended.
    enum ProcessOutcome: Sendable {
        case exited(ContainerTermination)
        case timedOut
        case failedToStart(String)
    }

    /// Runs a COMMAND check as a plain process in a session of its own: the sandbox is its working directory, its
    /// output is appended to the sandbox's `stdout` and `stderr`. Exit status 0 is healthy.
    static func runCommand(_ command: CommandSpec, sandbox: String, timeout: Duration, logger: Logger) async -> HealthProbeResult {
        switch await runProcess(command, directory: sandbox, timeout: timeout, logger: logger) {
        case .exited(let termination) where termination.exitStatus == 0:
            return .healthy("The health check command exited with status 0")
        case .exited(let termination):
            return .failed("The health check command failed: \(termination.message)")
        case .timedOut:
            return .failed("The health check command did not return within \(timeout); it was killed")
        case .failedToStart(let message):
            return .failed("Failed to start the health check command: \(message)")
        }
    }

    /// Runs `command` through the ``PosixLauncher`` (the agent never forks itself): in `directory`, its output
    /// appended to `directory/stdout` and `directory/stderr`. After `timeout`, or when the calling task is
    /// cancelled, its whole session is killed; either way the process is collected before this returns.
    static func runProcess(_ command: CommandSpec, directory: String, timeout: Duration, logger: Logger) async -> ProcessOutcome {
        let launcher = PosixLauncher(logger: logger)
        let config = ContainerConfig(
            containerID: ContainerID("health-\(UUID().uuidString.lowercased())"), command: command, sandboxDirectory: directory,
            networkMode: .host)
        let process: LaunchedProcess
        do {
            process = try await launcher.launch(config, hooks: LaunchHooks())
        } catch {
            return .failedToStart("\(error)")
        }
        // `wait` must run exactly once and to its end, whatever happens to the caller: an unstructured task.
        let exit = Task { await launcher.wait(process) }
        do {
            try await launcher.resume(process)
        } catch {
            _ = await exit.value
            return .failedToStart("\(error)")
        }
        let finished: ContainerTermination? = await withTaskGroup(of: ContainerTermination?.self) { group in
            group.addTask { await exit.value }
            group.addTask {
                try? await Task.sleep(for: timeout)  // returns early when the probe is cancelled
                return nil
            }
            let first = await group.next() ?? nil
            // The group returns only once `exit` has: on a timeout (or cancellation) kill the session first.
            if first == nil { try? launcher.signal(process, SIGKILL) }
            group.cancelAll()
            return first
        }
        return finished.map { .exited($0) } ?? .timedOut
    }
}
