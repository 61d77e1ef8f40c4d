// capstan_spawn: fork + execve with an errno sync socket, after apple/containerization's exec_command.c idea.
//
// Why fork and not posix_spawn: the task may need setgroups/setgid/setuid and a barrier before execve
// (so isolators can act on the pid first), which posix_spawn cannot do. A request with neither uses a vfork-like
// clone instead (no page-table copy; capstan-init holds itself at its own barrier). Between fork and execve the
// child calls only async-signal-safe functions: no malloc, no locks, no Swift.
//
// The sync socket (AF_UNIX stream, O_CLOEXEC) carries 8-byte records {stage, errno} from the child.
// A record {0, 0} means "ready at the barrier" (hold mode). EOF without a failure record means execve
// succeeded, because O_CLOEXEC closed the child's end.
//
// Monitor mode (monitor_path set): the child, after the barrier, forks the task and execs a monitor program that
// stays the task's parent, so the task's exit status survives the caller (an agent restart).
//
// File descriptors: the parent's fds are not inherited. Targets 0..2 and 3..3+n_extra-1 are set up with
// dup2, the sync socket moved right above them, and every fd above that closed at once with close_range, falling
// back to a close loop up to RLIMIT_NOFILE on kernels without close_range (< 5.11).
#include "CLinux.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#define CAPSTAN_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Serializes socketpair..close(child end) across threads: a fork by another spawn in that window would give its
// child a copy of our child's end, and our EOF-after-execve would wait for that other child's execve.
static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;

struct sync_record {
    int32_t stage;
    int32_t err;
};

// Writes all of `len` bytes, retrying EINTR; async-signal-safe.
static int write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

// Reads up to `len` bytes until EOF, retrying EINTR; returns bytes read or -1.
static ssize_t read_full(int fd, void *buf, size_t len) {
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

// Child only: report a failed step to the parent and leave without running atexit handlers.
static void __attribute__((noreturn)) child_fail(int sync_fd, int stage, int err) {
    struct sync_record rec = {stage, err};
    (void)write_all(sync_fd, &rec, sizeof rec);
    _exit(127);
}

// Child only: every signal back to its default disposition, then an empty mask.
static void child_reset_signals(void) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        (void)sigaction(sig, &dfl, NULL);  // glibc-reserved signals fail with EINVAL: harmless
    }
    sigset_t empty;
    sigemptyset(&empty);
    (void)sigprocmask(SIG_SETMASK, &empty, NULL);
}

// Child only: close every fd >= first.
static void child_close_from(int first) {
    if (syscall(SYS_close_range, (unsigned)first, ~0U, 0) == 0) return;
    struct rlimit rl;
    long max = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < max) {
        max = (long)rl.rlim_cur;
    }
    for (long fd = first; fd < max; fd++) (void)close((int)fd);
}

// Child only: install stdio and extra fds at their numbers; returns the (possibly moved) sync fd.
static int child_setup_fds(const struct capstan_spawn_request *req, int sync_fd) {
    int top = 3 + req->n_extra_fds;  // first fd number that is not a target; n_extra_fds checked by the parent
    int high[3 + CAPSTAN_SPAWN_MAX_EXTRA_FDS];

    if (sync_fd < top) {
        int moved = fcntl(sync_fd, F_DUPFD_CLOEXEC, top);
        if (moved < 0) child_fail(sync_fd, CAPSTAN_SPAWN_STAGE_FDS, errno);
        sync_fd = moved;
    }
    // Copy every source above the targets first, so that no dup2 clobbers a source still needed.
    for (int target = 0; target < top; target++) {
        int source;
        switch (target) {
        case 0: source = req->stdin_fd; break;
        case 1: source = req->stdout_fd; break;
        case 2: source = req->stderr_fd; break;
        default: source = req->extra_fds[target - 3]; break;
        }
        if (source < 0) {
            source = open("/dev/null", O_RDWR | O_CLOEXEC);
            if (source < 0) child_fail(sync_fd, CAPSTAN_SPAWN_STAGE_FDS, errno);
        }
        high[target] = fcntl(source, F_DUPFD_CLOEXEC, top);
        if (high[target] < 0) child_fail(sync_fd, CAPSTAN_SPAWN_STAGE_FDS, errno);
    }
    // dup2 clears FD_CLOEXEC on the target, so exactly these fds survive execve.
    for (int target = 0; target < top; target++) {
        if (dup2(high[target], target) < 0) child_fail(sync_fd, CAPSTAN_SPAWN_STAGE_FDS, errno);
    }
    // The sync fd goes right above the targets, and every other fd is closed now rather than at execve: a child
    // held at its barrier may wait a while, and must not keep the parent's other descriptors open meanwhile. A pipe
    // another thread reads to EOF (a command's output) would otherwise stay open until this child execs, and if that
    // reader holds up the thread that would release this child, neither ever moves.
    if (sync_fd != top) {
        if (dup3(sync_fd, top, O_CLOEXEC) < 0) child_fail(sync_fd, CAPSTAN_SPAWN_STAGE_FDS, errno);
        sync_fd = top;
    }
    child_close_from(top + 1);
    return sync_fd;
}

// Child only: execve `file`, searching `search_path` when it has no '/'; returns the errno to report.
static int child_exec(const char *file, char *const argv[], char *const envp[], const char *search_path) {
    if (file == NULL || file[0] == '\0') return ENOENT;
    if (strchr(file, '/') != NULL) {
        execve(file, argv, envp);
        return errno;
    }
    const char *path = search_path;
    if (path == NULL && envp != NULL) {
        for (char *const *e = envp; *e != NULL; e++) {
            if (strncmp(*e, "PATH=", 5) == 0) {
                path = *e + 5;
                break;
            }
        }
    }
    if (path == NULL) path = CAPSTAN_DEFAULT_PATH;

    size_t file_len = strlen(file);
    int seen_eacces = 0;
    char candidate[PATH_MAX];
    const char *dir = path;
    for (;;) {
        const char *end = strchr(dir, ':');
        size_t dir_len = end != NULL ? (size_t)(end - dir) : strlen(dir);
        if (dir_len == 0) {  // an empty entry means the working directory
            dir = ".";
            dir_len = 1;
        }
        if (dir_len + 1 + file_len + 1 <= sizeof candidate) {
            memcpy(candidate, dir, dir_len);
            candidate[dir_len] = '/';
            memcpy(candidate + dir_len + 1, file, file_len + 1);
            execve(candidate, argv, envp);
            int err = errno;
            if (err == EACCES) {
                seen_eacces = 1;
            } else if (err != ENOENT && err != ENOTDIR && err != ENAMETOOLONG && err != ELOOP) {
                return err;  // found something that cannot run (ENOEXEC, E2BIG, ...): stop like execvp
            }
        }
        if (end == NULL) break;
        dir = end + 1;
    }
    return seen_eacces ? EACCES : ENOENT;
}

// Child only: the user switch (setgroups, setgid, setuid) and the working directory.
static void child_become_user(const struct capstan_spawn_request *req, int sync_fd) {
    if (req->gid >= 0) {
        gid_t only = (gid_t)req->gid;
        int rc = req->groups != NULL && req->n_groups > 0 ? setgroups((size_t)req->n_groups, req->groups)
                                                          : setgroups(1, &only);
        if (rc < 0) child_fail(sync_fd, CAPSTAN_SPAWN_STAGE_SETGROUPS, errno);
        if (setgid((gid_t)req->gid) < 0) child_fail(sync_fd, CAPSTAN_SPAWN_STAGE_SETGID, errno);
    }
    if (req->uid >= 0 && setuid((uid_t)req->uid) < 0) child_fail(sync_fd, CAPSTAN_SPAWN_STAGE_SETUID, errno);
    if (req->cwd != NULL && chdir(req->cwd) < 0) child_fail(sync_fd, CAPSTAN_SPAWN_STAGE_CHDIR, errno);
}

// Child only: in hold mode, report the barrier and wait for the parent's byte.
static void child_hold(const struct capstan_spawn_request *req, int sync_fd) {
    if (!req->hold) return;
    struct sync_record ready = {CAPSTAN_SPAWN_STAGE_NONE, 0};
    if (write_all(sync_fd, &ready, sizeof ready) < 0) _exit(127);
    char go;
    if (read_full(sync_fd, &go, 1) != 1) _exit(127);  // the parent gave up on us: leave quietly
}

// Child only (monitor mode): fork the task, then become the monitor program. Every signal stays blocked in the
// monitor from before the fork on (the mask survives its execve), so a signal sent to the session while the task
// runs reaches the task, not the monitor. Both ends report failures on the sync socket; the parent sees EOF once
// both have exec'd.
static void __attribute__((noreturn)) monitor_main(const struct capstan_spawn_request *req, int sync_fd) {
    sigset_t all;
    sigfillset(&all);
    (void)sigprocmask(SIG_SETMASK, &all, NULL);
    pid_t task = fork();
    if (task < 0) child_fail(sync_fd, CAPSTAN_SPAWN_STAGE_FORK, errno);
    if (task == 0) {
        sigset_t empty;
        sigemptyset(&empty);
        (void)sigprocmask(SIG_SETMASK, &empty, NULL);
        child_become_user(req, sync_fd);
        int err = child_exec(req->path, req->argv, req->envp, req->search_path);
        child_fail(sync_fd, CAPSTAN_SPAWN_STAGE_EXECVE, err);
    }
    char *const no_env[] = {NULL};
    execve(req->monitor_path, req->monitor_argv, no_env);
    int err = errno;
    (void)kill(task, SIGKILL);  // no monitor: the task must not run unwatched
    child_fail(sync_fd, CAPSTAN_SPAWN_STAGE_MONITOR, err);
}

// Child only: everything between fork and execve, in the order documented in CLinux.h.
static void __attribute__((noreturn)) child_main(const struct capstan_spawn_request *req, int sync_fd) {
    child_reset_signals();
    if (req->new_session && setsid() < 0) child_fail(sync_fd, CAPSTAN_SPAWN_STAGE_SETSID, errno);
    sync_fd = child_setup_fds(req, sync_fd);
    if (req->monitor_path != NULL) {
        child_hold(req, sync_fd);
        monitor_main(req, sync_fd);
    }
    child_become_user(req, sync_fd);
    child_hold(req, sync_fd);
    int err = child_exec(req->path, req->argv, req->envp, req->search_path);
    child_fail(sync_fd, CAPSTAN_SPAWN_STAGE_EXECVE, err);
}

struct child_args {
    const struct capstan_spawn_request *req;
    int sync_fd;
    int parent_fd;
};

// Child entry of the vfork-like clone.
static int child_entry(void *arg) {
    const struct child_args *args = arg;
    close(args->parent_fd);
    child_main(args->req, args->sync_fd);
}

// Parent: reads one record; returns 1 for a record, 0 for EOF, -1 with errno for an error.
static int read_record(int fd, struct sync_record *rec) {
    ssize_t n = read_full(fd, rec, sizeof *rec);
    if (n < 0) return -1;
    if (n == 0) return 0;
    if ((size_t)n != sizeof *rec) {
        errno = EPROTO;
        return -1;
    }
    return 1;
}

// Parent: reap a child that reported a failure (it is already in _exit).
static void reap_quietly(pid_t pid) {
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

int capstan_spawn_ex(const struct capstan_spawn_request *req, struct capstan_spawn_result *res) {
    res->pid = 0;
    res->stage = CAPSTAN_SPAWN_STAGE_NONE;
    res->sync_fd = -1;
    if (req->n_extra_fds < 0 || req->n_extra_fds > CAPSTAN_SPAWN_MAX_EXTRA_FDS ||
        (req->n_extra_fds > 0 && req->extra_fds == NULL) || req->argv == NULL || req->envp == NULL ||
        (req->monitor_path != NULL && (req->monitor_argv == NULL || !req->new_session))) {
        res->stage = CAPSTAN_SPAWN_STAGE_FDS;
        return EINVAL;
    }

    int sv[2];
    pthread_mutex_lock(&spawn_lock);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        int err = errno;
        pthread_mutex_unlock(&spawn_lock);
        res->stage = CAPSTAN_SPAWN_STAGE_SOCKETPAIR;
        return err;
    }

    // Block every signal so the child cannot run one of the parent's handlers before it resets them.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid;
    if (!req->hold && req->uid < 0 && req->gid < 0 && req->monitor_path == NULL) {
        // Like vfork, as posix_spawn does: the child borrows our memory until execve, so a large agent's page tables
        // are not copied. It runs on a stack of its own (guarded by spawn_lock; we are suspended until it execs or
        // exits), and never calls setuid/setgid, whose glibc wrappers signal every thread of the memory's owner.
        static char stack[64 * 1024] __attribute__((aligned(16)));
        struct child_args args = {req, sv[1], sv[0]};
        pid = clone(child_entry, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
    } else {
        pid = fork();
        if (pid == 0) {
            close(sv[0]);
            child_main(req, sv[1]);
        }
    }
    int fork_err = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(sv[1]);
    pthread_mutex_unlock(&spawn_lock);
    if (pid < 0) {
        close(sv[0]);
        res->stage = CAPSTAN_SPAWN_STAGE_FORK;
        return fork_err;
    }

    struct sync_record rec;
    int got = read_record(sv[0], &rec);
    int read_err = errno;
    if (got == 1 && rec.err == 0 && req->hold) {  // ready at the barrier
        res->pid = pid;
        res->sync_fd = sv[0];
        return 0;
    }
    close(sv[0]);
    if (got == 0 && !req->hold) {  // execve closed the child's end
        res->pid = pid;
        return 0;
    }
    reap_quietly(pid);
    if (got == 1 && rec.err != 0) {
        res->stage = rec.stage;
        return rec.err;
    }
    res->stage = CAPSTAN_SPAWN_STAGE_SYNC;
    return got < 0 ? read_err : EPROTO;  // EOF in hold mode: the child died before the barrier
}

int capstan_spawn_release(int sync_fd, int *out_stage) {
    *out_stage = CAPSTAN_SPAWN_STAGE_NONE;
    char go = 1;
    if (write_all(sync_fd, &go, 1) < 0) {
        int err = errno;
        close(sync_fd);
        *out_stage = CAPSTAN_SPAWN_STAGE_BARRIER;
        return err;
    }
    struct sync_record rec;
    int got = read_record(sync_fd, &rec);
    int err = errno;
    close(sync_fd);
    if (got == 0) return 0;
    if (got == 1 && rec.err != 0) {
        *out_stage = rec.stage;
        return rec.err;
    }
    *out_stage = CAPSTAN_SPAWN_STAGE_SYNC;
    return got < 0 ? err : EPROTO;
}

int capstan_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd, int stdin_fd,
                  int stdout_fd, int stderr_fd, int new_session, int uid, int gid, int *out_pid) {
    struct capstan_spawn_request req = {
        .path = path,
        .argv = argv,
        .envp = envp,
        .cwd = cwd,
        .stdin_fd = stdin_fd,
        .stdout_fd = stdout_fd,
        .stderr_fd = stderr_fd,
        .extra_fds = NULL,
        .n_extra_fds = 0,
        .new_session = new_session,
        .uid = uid,
        .gid = gid,
        .groups = NULL,
        .n_groups = 0,
        .search_path = NULL,
        .hold = 0,
        .monitor_path = NULL,
        .monitor_argv = NULL,
    };
    struct capstan_spawn_result res;
    int err = capstan_spawn_ex(&req, &res);
    *out_pid = err == 0 ? res.pid : -1;
    return err;
}
