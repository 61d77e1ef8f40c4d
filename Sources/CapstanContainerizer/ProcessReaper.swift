import CapstanLinux
import CLinux
import Glibc

/// Waits for the first process of a container on a dedicated thread per process.
///
/// Nothing else in the agent may reap arbitrary children (`waitpid(-1)`, `SIGCHLD` set to `SIG_IGN`,
/// Foundation's `Process`), or it would steal these exit statuses.
enum ProcessReaper {
    /// Waits for child `pid` to exit without reaping it, kills what is left of its group, then reaps it.
    static func waitForChild(_ pid: Int32, table: ProcessTable) async -> ContainerTermination {
        await DedicatedThread.run(name: "capstan-reaper-\(pid)") {
            let waitError = capstan_wait_exit_nowait(pid)
            return table.finish(pid) {
                if waitError != 0 {
                    return .unknown("Failed to wait for the command: waitid: \(errnoText(waitError)) (errno \(waitError))")
                }
                var exitCode: Int32 = -1
                var signal: Int32 = -1
                let reapError = capstan_reap(pid, &exitCode, &signal)
                if reapError != 0 {
                    return .unknown("Failed to wait for the command: waitpid: \(errnoText(reapError)) (errno \(reapError))")
                }
                if exitCode >= 0 { return .exited(exitCode) }
                return .signaled(signal)
            }
        }
    }

    /// Waits for a process that is not our child (adopted at recovery): through a pidfd, or by polling `/proc`
    /// on kernels without pidfds. Its exit status cannot be known.
    static func waitForAdopted(_ pid: Int32, startTicks: UInt64?, table: ProcessTable) async -> ContainerTermination {
        await DedicatedThread.run(name: "capstan-reaper-\(pid)") {
            let pidfd = capstan_pidfd_open(pid)
            if pidfd >= 0 {
                defer { close(pidfd) }
                // The pidfd pins the process: if /proc still shows the same start time now, the pidfd is the right one.
                if isSame(pid, startTicks) { _ = capstan_pidfd_wait(pidfd) }
            } else {
                while isSame(pid, startTicks) { usleep(250_000) }
            }
            return table.finish(pid) {
                .unknown("Command exited with an unknown status (it was recovered after an agent restart)")
            }
        }
    }

    /// Whether `pid` still runs (not a zombie) and, when known, started at `startTicks`.
    private static func isSame(_ pid: Int32, _ startTicks: UInt64?) -> Bool {
        guard let stat = ProcStat.read(pid: pid), !stat.isZombie else { return false }
        return startTicks.map { $0 == stat.startTicks } ?? true
    }
}
