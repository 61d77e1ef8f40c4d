// CLinux: the few things Capstan cannot do safely or at all from Swift.
// Every function states why it lives in C. Compiled with -D_GNU_SOURCE.
#pragma once

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The step of `capstan_spawn_ex` that failed; returned with the errno so callers can name it.
enum capstan_spawn_stage {
    CAPSTAN_SPAWN_STAGE_NONE = 0,
    CAPSTAN_SPAWN_STAGE_SOCKETPAIR = 1,
    CAPSTAN_SPAWN_STAGE_FORK = 2,
    CAPSTAN_SPAWN_STAGE_SETSID = 3,
    CAPSTAN_SPAWN_STAGE_FDS = 4,
    CAPSTAN_SPAWN_STAGE_SETGROUPS = 5,
    CAPSTAN_SPAWN_STAGE_SETGID = 6,
    CAPSTAN_SPAWN_STAGE_SETUID = 7,
    CAPSTAN_SPAWN_STAGE_CHDIR = 8,
    CAPSTAN_SPAWN_STAGE_BARRIER = 9,
    CAPSTAN_SPAWN_STAGE_EXECVE = 10,
    CAPSTAN_SPAWN_STAGE_SYNC = 11,
};

/// The most fds `capstan_spawn_request.extra_fds` may name.
#define CAPSTAN_SPAWN_MAX_EXTRA_FDS 61

/// What to start. Every pointer is borrowed for the duration of the call only.
struct capstan_spawn_request {
    /// Program to execute. Without a '/', it is searched in `search_path` (execvp-style).
    const char *path;
    /// NULL-terminated argument vector; argv[0] is the program name the task sees.
    char *const *argv;
    /// NULL-terminated environment, exactly what the task gets.
    char *const *envp;
    /// Working directory, entered after the user switch; NULL keeps the caller's.
    const char *cwd;
    /// Become fds 0, 1, 2 in the child; -1 opens /dev/null instead.
    int stdin_fd, stdout_fd, stderr_fd;
    /// Become fds 3, 4, ... in the child (e.g. a spec pipe for capstan-init); may be NULL.
    const int *extra_fds;
    int n_extra_fds;
    /// Non-zero: the child calls setsid(), so it leads a new session and process group.
    int new_session;
    /// -1 keeps the caller's ids; otherwise setgroups/setgid/setuid in that order.
    int uid, gid;
    /// Supplementary groups set when gid != -1; NULL/0 sets just `gid`.
    const gid_t *groups;
    int n_groups;
    /// PATH for the lookup; NULL uses PATH from `envp`, then a default.
    const char *search_path;
    /// Non-zero: the child stops right before execve until `capstan_spawn_release`.
    int hold;
};

/// What `capstan_spawn_ex` produced.
struct capstan_spawn_result {
    /// The child's pid on success; 0 on failure (a child that reported a failure has been reaped).
    int pid;
    /// The failed step when the call returned an errno.
    int stage;
    /// Hold mode only: the parent's end of the sync socket, O_CLOEXEC; owned by the caller.
    int sync_fd;
};

/// Starts a process: fork, then only async-signal-safe calls until execve, with an errno sync socket.
/// Lives in C because a multi-threaded Swift process must not run Swift code between fork and exec.
/// Without `hold`, returns once the child has exec'd (0) or failed (errno, child already reaped).
/// With `hold`, returns once the child waits at the barrier before execve (sync_fd set) or failed.
int capstan_spawn_ex(const struct capstan_spawn_request *req, struct capstan_spawn_result *res);

/// Lets a held child go on to execve and reports the outcome; always closes `sync_fd`.
/// Lives in C because it speaks the byte protocol of the sync socket defined in spawn.c.
/// Returns 0 when execve succeeded, else the errno and the stage in *out_stage.
int capstan_spawn_release(int sync_fd, int *out_stage);

/// The simple form: spawn without holding and without extra fds; returns 0 or an errno.
/// Lives in C as a convenience over `capstan_spawn_ex` with the same fork/exec rules.
int capstan_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd, int stdin_fd,
                  int stdout_fd, int stderr_fd, int new_session, int uid, int gid, int *out_pid);

/// Waits until child `pid` has exited WITHOUT reaping it (waitid WNOWAIT), so its pid cannot be reused yet.
/// Lives in C because siginfo_t's unions are not usable from Swift. Returns 0 or an errno; retries EINTR.
int capstan_wait_exit_nowait(int pid);

/// Reaps child `pid` (blocking waitpid, retrying EINTR) and decodes its status.
/// Lives in C because WIFEXITED/WEXITSTATUS/WIFSIGNALED/WTERMSIG are macros.
/// Returns 0 and sets exactly one of *out_exit_code / *out_signal (the other -1), or an errno.
int capstan_reap(int pid, int *out_exit_code, int *out_signal);

/// Opens a pidfd for any process (also non-children), or returns -1 with errno set.
/// Lives in C because glibc before 2.36 has no pidfd_open wrapper.
int capstan_pidfd_open(int pid);

/// Blocks until the process behind `pidfd` has exited (poll POLLIN, retrying EINTR); returns 0 or an errno.
/// Lives in C to keep struct pollfd and the pidfd semantics next to capstan_pidfd_open.
int capstan_pidfd_wait(int pidfd);

/// Writes the message for `err` into `buf` and returns `buf`.
/// Lives in C because glibc exports two strerror_r variants chosen by feature macros; this pins the GNU one.
const char *capstan_strerror(int err, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
