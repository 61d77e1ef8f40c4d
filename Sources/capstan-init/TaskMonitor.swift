import CLinux
import CapstanInitSpec
import Glibc

// MARK: - Task monitor

/// `capstan-init --task-monitor <status file>`: the monitor of a plain task (no namespaces), which the agent's spawn
/// shim execs in the task's session right after it forked the task. It starts with every signal blocked (the shim's
/// mask survives execve), so signals sent to the session reach the task, not the monitor. It waits for its one child,
/// writes the status to the file and ends the same way, so the agent sees the task's status whether it waited all
/// along or restarted meanwhile and reads the file.
func taskMonitorMain(statusPath: String) -> Never {
    _ = chdir("/")  // hold no directory of the agent's or the task's
    var status: Int32 = 0
    var pid: pid_t = -1
    repeat { pid = waitpid(-1, &status, 0) } while pid < 0 && errno == EINTR
    if pid < 0 { _exit(127) }  // no task: the shim failed to fork it and reported that already
    var exitCode: Int32 = -1
    var termSignal: Int32 = -1
    capstan_decode_wait_status(status, &exitCode, &termSignal)
    recordExitStatus(exitCode: exitCode, signal: termSignal, to: statusPath)
    endLike(exitCode: exitCode, signal: termSignal)
}

/// Writes `exit N` or `signal N` to `path` (through a temporary file and a rename, so a reader never sees half).
/// Not fsynced: the file has to outlive the agent, not the machine (a reboot ends the task anyway).
func recordExitStatus(exitCode: Int32, signal: Int32, to path: String) {
    let text = ExitStatusFile.encode(exitCode: exitCode >= 0 ? exitCode : nil, signal: signal >= 0 ? signal : nil)
    let temp = path + ".tmp"
    let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
    guard fd >= 0 else { return }
    writeAll(fd, text)
    close(fd)
    rename(temp, path)
}

/// Ends with the task's exit code, or by the signal that ended it (without a core dump of this process).
func endLike(exitCode: Int32, signal termSignal: Int32) -> Never {
    if termSignal > 0 {
        var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &noCore)
        signal(termSignal, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, termSignal)
        sigprocmask(SIG_UNBLOCK, &set, nil)
        raise(termSignal)
    }
    _exit(exitCode >= 0 ? exitCode : 127)
}
