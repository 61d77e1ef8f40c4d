// Waiting for processes: what Swift cannot express (siginfo_t unions, wait-status macros, pidfd_open).
#include "CLinux.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

// waitid's idtype for a pidfd (Linux 5.4); glibc before 2.36 does not name it.
#define CAPSTAN_P_PIDFD 3

int capstan_exited_nohang(int pid) {
    siginfo_t info;
    for (;;) {
        memset(&info, 0, sizeof info);
        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0) return info.si_pid == (pid_t)pid ? 1 : 0;
        if (errno != EINTR) return -errno;
    }
}

int capstan_pidfd_reap(int pidfd, int *out_exit_code, int *out_signal) {
    siginfo_t info;
    *out_exit_code = -1;
    *out_signal = -1;
    for (;;) {
        memset(&info, 0, sizeof info);
        if (waitid(CAPSTAN_P_PIDFD, (id_t)pidfd, &info, WEXITED) == 0) break;
        if (errno != EINTR) return errno;
    }
    if (info.si_code == CLD_EXITED) *out_exit_code = info.si_status;
    else *out_signal = info.si_status;
    return 0;
}

int capstan_reap(int pid, int *out_exit_code, int *out_signal) {
    int status = 0;
    *out_exit_code = -1;
    *out_signal = -1;
    for (;;) {
        pid_t got = waitpid((pid_t)pid, &status, 0);
        if (got == (pid_t)pid) break;
        if (got < 0 && errno != EINTR) return errno;
    }
    if (WIFEXITED(status)) *out_exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) *out_signal = WTERMSIG(status);
    return 0;
}

int capstan_pidfd_open(int pid) {
    return (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
}

