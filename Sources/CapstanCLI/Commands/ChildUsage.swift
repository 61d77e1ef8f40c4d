import CapstanCore
import Foundation
import Glibc

/// What one child process cost: its wall time from spawn to exit and its peak resident set size, from `wait4`'s
/// rusage (so the figure is the child's own, not this process's or that of another child).
struct ChildUsage {
    var exitStatus: Int32
    var seconds: Double
    /// `ru_maxrss`, in KiB on Linux.
    var maxRSSKiB: Int
    /// User plus system CPU time.
    var cpuSeconds: Double = 0

    var maxRSSMiB: Double { Double(maxRSSKiB) / 1024 }

    /// Runs `arguments` (an absolute executable path first) to completion with stdout and stderr written to files.
    static func measure(_ arguments: [String], stdout: String, stderr: String) throws -> ChildUsage {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let start = ContinuousClock.now
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ)
        guard spawned == 0 else {
            throw CapstanError(.internal, "cannot start \(arguments[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw CapstanError(.internal, "wait4 \(pid): \(String(cString: strerror(errno)))") }
        }
        let seconds = (ContinuousClock.now - start).seconds
        // WIFEXITED / WEXITSTATUS, which Swift does not import; a signal death is 128 + the signal.
        let exit = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        return ChildUsage(exitStatus: exit, seconds: seconds, maxRSSKiB: usage.ru_maxrss, cpuSeconds: cpu)
    }
}
