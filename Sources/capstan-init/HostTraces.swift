import CLinux
import Glibc

/// What the container's PID 1, a fork of this host binary, would otherwise show the tasks it starts.
///
/// - Its command line: the launcher names its work directory in argv (for `ps` on the host); PID 1 zeroes every
///   argument but the first, so `/proc/1/cmdline` inside reads only `capstan-init`.
/// - Its executable: `/proc/1/exe` is this host binary. A task that could open it could read it and, once
///   every monitor has exited, hold a handle to overwrite it (the runc CVE-2019-5736 pattern). PID 1 is made
///   non-dumpable, which closes `exe`, `mem`, `environ`, `cwd` and `root` under `/proc/1` to every process without
///   CAP_SYS_PTRACE, which tasks never get. The task itself is exec'd, which makes it dumpable again, so debugging
///   inside the container still works.
func eraseHostTraces() {
    check(capstan_set_dumpable(0), "prctl(PR_SET_DUMPABLE, 0)")
    let argv = CommandLine.unsafeArgv
    for index in 1..<Int(CommandLine.argc) {
        guard let argument = argv[index] else { continue }
        memset(argument, 0, strlen(argument))
    }
}
