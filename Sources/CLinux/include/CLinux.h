// CLinux: the few things Capstan cannot do safely or at all from Swift.
// Every function states why it lives in C. Compiled with -D_GNU_SOURCE.
#pragma once

#include <stddef.h>
#include <sys/types.h>
#include <sys/xattr.h>  // lgetxattr: not in the Glibc module map

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
    CAPSTAN_SPAWN_STAGE_MONITOR = 12,
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
    /// Non-NULL: the child stays as the task's monitor. After the barrier (as the caller's user, every signal
    /// blocked) it forks the task, which alone switches user, enters `cwd` and execs `path`; the child then execs
    /// `monitor_path` with `monitor_argv` and an empty environment, keeping the blocked mask, so that a program which
    /// outlives the caller can wait for the task and keep its exit status. Needs `new_session`.
    const char *monitor_path;
    char *const *monitor_argv;
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

/// Whether child `pid` has exited, WITHOUT reaping it (waitid WNOHANG|WNOWAIT, so its pid cannot be reused yet):
/// 1 exited, 0 still running, or -errno. For kernels without pidfds. Lives in C because siginfo_t's unions are not
/// usable from Swift; retries EINTR.
int capstan_exited_nohang(int pid);

/// Reaps the exited child behind `pidfd` (waitid P_PIDFD, Linux 5.4; retrying EINTR) and decodes its status.
/// Lives in C because siginfo_t's unions are not usable from Swift and glibc before 2.36 has no P_PIDFD.
/// Returns 0 and sets exactly one of *out_exit_code / *out_signal (the other -1), or an errno.
int capstan_pidfd_reap(int pidfd, int *out_exit_code, int *out_signal);

/// Reaps child `pid` (blocking waitpid, retrying EINTR) and decodes its status.
/// Lives in C because WIFEXITED/WEXITSTATUS/WIFSIGNALED/WTERMSIG are macros.
/// Returns 0 and sets exactly one of *out_exit_code / *out_signal (the other -1), or an errno.
int capstan_reap(int pid, int *out_exit_code, int *out_signal);

/// Opens a pidfd for any process (also non-children), or returns -1 with errno set.
/// Lives in C because glibc before 2.36 has no pidfd_open wrapper.
int capstan_pidfd_open(int pid);


/// Writes the message for `err` into `buf` and returns `buf`.
/// Lives in C because glibc exports two strerror_r variants chosen by feature macros; this pins the GNU one.
const char *capstan_strerror(int err, char *buf, size_t len);


// ---- Namespaces, mounts and privileges, for capstan-init (see linux.c) ----

/// CLONE_NEW* flags: sched.h declares them only under _GNU_SOURCE, which Swift's Glibc module is not built with.
#define CAPSTAN_CLONE_NEWNS 0x00020000
#define CAPSTAN_CLONE_NEWUTS 0x04000000
#define CAPSTAN_CLONE_NEWIPC 0x08000000
#define CAPSTAN_CLONE_NEWPID 0x20000000
#define CAPSTAN_CLONE_NEWNET 0x40000000
#define CAPSTAN_CLONE_NEWCGROUP 0x02000000

/// unshare(2). Lives in C because glibc declares it only under _GNU_SOURCE. Returns 0 or an errno.
int capstan_unshare(int flags);

/// pivot_root(2). Lives in C because glibc has no wrapper. Returns 0 or an errno.
int capstan_pivot_root(const char *new_root, const char *put_old);

/// prctl(PR_SET_NO_NEW_PRIVS, 1). Lives in C because prctl is variadic. Returns 0 or an errno.
int capstan_set_no_new_privs(void);

/// prctl(PR_SET_DUMPABLE, on). Off, /proc/PID/{exe,mem,environ,cwd,root} of the process are closed to every process
/// without CAP_SYS_PTRACE. Lives in C because prctl is variadic. Returns 0 or an errno.
int capstan_set_dumpable(int on);

/// prctl(PR_SET_PDEATHSIG, sig). Lives in C because prctl is variadic. Returns 0 or an errno.
int capstan_set_pdeathsig(int sig);

/// prctl(PR_SET_CHILD_SUBREAPER, 1). Lives in C because prctl is variadic. Returns 0 or an errno.
int capstan_set_child_subreaper(void);

/// Drops every capability not in `keep` (a bit mask of CAP_* numbers) from the bounding set, clears the ambient set,
/// and sets the effective, permitted and inheritable sets to `keep`. Lives in C because it needs prctl (variadic)
/// and capset with the kernel's header structs. Returns 0 or an errno; `*out_step` names the failing call
/// (1 = PR_CAPBSET_DROP, 2 = PR_CAP_AMBIENT_CLEAR_ALL, 3 = capset).
int capstan_restrict_capabilities(unsigned long long keep, int *out_step);

/// Keeps permitted capabilities across the following setuid (PR_SET_KEEPCAPS). Lives in C: prctl is variadic.
int capstan_set_keepcaps(int on);

/// The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap), or 40 if unreadable.
int capstan_cap_last_cap(void);

/// fork(2). Lives in C because Swift marks fork unavailable; only capstan-init (single-threaded) calls it.
int capstan_fork(void);

/// Decodes a wait status. Lives in C because WIFEXITED/WEXITSTATUS/WIFSIGNALED/WTERMSIG are macros.
/// Sets exactly one of *out_exit_code / *out_signal (the other -1).
void capstan_decode_wait_status(int status, int *out_exit_code, int *out_signal);

/// mount_setattr(2) with AT_RECURSIVE and MOUNT_ATTR_RDONLY: the mount at `path` and every mount below it read-only.
/// Returns 0 or an errno (ENOSYS before Linux 5.12, where callers fall back to a read-only remount of the top mount).
int capstan_mount_readonly_recursive(const char *path);

/// A device number for mknod. Lives in C because makedev is a macro.
unsigned long capstan_makedev(unsigned int major, unsigned int minor);

// ---- Files beneath a root (see files.c) ----

/// openat2(2) `resolve` flags (linux/openat2.h), for kernels newer than the installed headers.
#define CAPSTAN_RESOLVE_NO_XDEV 0x01
#define CAPSTAN_RESOLVE_NO_MAGICLINKS 0x02
#define CAPSTAN_RESOLVE_NO_SYMLINKS 0x04
#define CAPSTAN_RESOLVE_BENEATH 0x08
/// O_PATH: fcntl.h declares it only under _GNU_SOURCE, which Swift's Glibc module is not built with.
#define CAPSTAN_O_PATH 0x200000

/// syncfs(2) on the file system holding `fd`: flushes a whole unpacked tree in one call. Lives in C because glibc
/// declares it only under _GNU_SOURCE. Returns 0, or -1 with errno set.
int capstan_syncfs(int fd);

/// statfs(2)'s `f_type` (the file system's magic number) for `path` into `*out_type`. Lives in C because sys/vfs.h is
/// not in Swift's Glibc module. Returns 0 or an errno.
int capstan_fs_type(const char *path, unsigned long long *out_type);

/// openat2(2) with an open_how of `flags`, `mode` and `resolve`; retries EINTR. Returns the fd, or -1 with errno set
/// (ENOSYS on kernels before 5.6). Lives in C because glibc before 2.39 has no wrapper and no struct open_how.
int capstan_openat2(int dirfd, const char *path, unsigned long long flags, unsigned long long mode,
                    unsigned long long resolve);

// ---- Thread priority (see priority.c) ----

/// I/O scheduling classes of ioprio_set(2) (linux/ioprio.h).
#define CAPSTAN_IOPRIO_CLASS_BE 2
#define CAPSTAN_IOPRIO_CLASS_IDLE 3

/// The calling thread's kernel thread id. Lives in C because glibc before 2.30 has no gettid wrapper.
int capstan_gettid(void);

/// Sets the calling thread's I/O class (and level, 0-7, for the best-effort class); 0 or an errno. Lives in C because
/// ioprio_set has no glibc wrapper.
int capstan_ioprio_set_self(int io_class, int level);

/// The calling thread's I/O class, or -errno.
int capstan_ioprio_class_self(void);

/// CPU time the calling thread has used, in nanoseconds (0 when unknown). In C so that Swift code needs no
/// struct timespec, whose owning module the importer may take to be this one.
unsigned long long capstan_thread_cpu_ns(void);

/// Sets the calling thread's nice value (setpriority on its thread id); 0 or an errno.
int capstan_nice_self(int nice);

// ---- Project quotas, for disk/xfs (see quota.c) ----
// In C because struct fsxattr, struct fs_disk_quota and struct if_dqblk come from kernel headers that Swift's Glibc
// module does not include, and QCMD is a macro.

/// The project ID of open file `fd` and whether FS_XFLAG_PROJINHERIT is set (FS_IOC_FSGETXATTR). 0 or an errno.
int capstan_project_get(int fd, unsigned int *out_project, int *out_inherit);

/// Sets project `project` on `fd` (FS_IOC_FSSETXATTR), with FS_XFLAG_PROJINHERIT when `inherit` (directories: what is
/// created in them takes the project) or without it, keeping the other flags. 0 or an errno.
int capstan_project_set(int fd, unsigned int project, int inherit);

/// `capstan_project_set` on `root` and everything under it on the same filesystem (nftw, FTW_PHYS | FTW_MOUNT):
/// directories with FS_XFLAG_PROJINHERIT when `inherit`, regular files; symlinks, devices, fifos and sockets are left
/// alone. One walk per thread at a time (nftw has no context argument). Returns 0 or the errno of the first entry
/// that failed, whose path is copied into `failed_path`; `*out_count` is how many entries were set.
int capstan_project_set_tree(const char *root, unsigned int project, int inherit, unsigned long long *out_count,
                             char *failed_path, size_t failed_len);

/// Whether project quotas are on for the filesystem on block device `device`: XFS (`xfs` non-zero) through
/// Q_XGETQSTAT (accounting and enforcement flags), others through the generic Q_GETINFO. 0, or the errno quotactl
/// answered: ENOSYS (no quota support for this filesystem in the kernel), ESRCH (project quotas not turned on)…
int capstan_project_quota_state(const char *device, int xfs, int *out_accounting, int *out_enforced);

/// Usage and hard limit of project `id`, in bytes (limit 0: none): Q_XGETQUOTA on XFS, else Q_GETQUOTA. 0 or an errno.
int capstan_project_quota_get(const char *device, int xfs, unsigned int id, unsigned long long *out_used,
                              unsigned long long *out_hard_limit);

/// Sets the hard block limit of project `id` to `bytes` rounded up (0 clears it) and clears the soft limit:
/// Q_XSETQLIM on XFS, else Q_SETQUOTA. 0 or an errno.
int capstan_project_quota_set(const char *device, int xfs, unsigned int id, unsigned long long bytes);

// ---- cgroup v2 device programs, for cgroups/devices (see bpf.c) ----
// In C because bpf(2) has no glibc wrapper and union bpf_attr comes from linux/bpf.h, which Swift's Glibc module does
// not include.

/// Loads `count` instructions (`struct bpf_insn`, 8 bytes each) as a BPF_PROG_TYPE_CGROUP_DEVICE program named
/// `capstan_devices`. Returns the program's fd (O_CLOEXEC), or -errno; on failure the verifier's log (from a second
/// load with log_level 1) is copied into `log` (NUL-terminated, possibly empty) when `log` is not NULL.
int capstan_bpf_cgroup_device_load(const void *insns, unsigned int count, const char *license, char *log,
                                   unsigned int log_size);

/// Attaches `prog_fd` to the cgroup directory `cgroup_fd` as its BPF_CGROUP_DEVICE program, without
/// BPF_F_ALLOW_MULTI or BPF_F_ALLOW_OVERRIDE: a program already attached there is replaced. 0 or an errno.
int capstan_bpf_cgroup_device_attach(int cgroup_fd, int prog_fd);

/// How many BPF_CGROUP_DEVICE programs are attached to the cgroup directory `cgroup_fd` itself (BPF_PROG_QUERY),
/// or -errno.
int capstan_bpf_cgroup_device_count(int cgroup_fd);

#ifdef __cplusplus
}
#endif
