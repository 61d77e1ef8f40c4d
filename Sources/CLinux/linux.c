// Namespaces, mounts and privileges for capstan-init: calls Swift cannot make (variadic prctl, _GNU_SOURCE-only
// declarations, capset's kernel structs, fork).
#include "CLinux.h"

#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

int capstan_unshare(int flags) {
    return unshare(flags) == 0 ? 0 : errno;
}

int capstan_pivot_root(const char *new_root, const char *put_old) {
    return syscall(SYS_pivot_root, new_root, put_old) == 0 ? 0 : errno;
}

int capstan_mount_readonly_recursive(const char *path) {
#ifdef SYS_mount_setattr
    // struct mount_attr (linux/mount.h, 5.12): attr_set, attr_clr, propagation, userns_fd.
    struct { unsigned long long attr_set, attr_clr, propagation, userns_fd; } attr = { 0x00000001 /* MOUNT_ATTR_RDONLY */, 0, 0, 0 };
    if (syscall(SYS_mount_setattr, -100 /* AT_FDCWD */, path, 0x8000 /* AT_RECURSIVE */, &attr, sizeof attr) == 0) return 0;
    return errno;
#else
    return ENOSYS;
#endif
}

int capstan_set_no_new_privs(void) {
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 ? 0 : errno;
}

int capstan_set_dumpable(int on) {
    return prctl(PR_SET_DUMPABLE, on, 0, 0, 0) == 0 ? 0 : errno;
}

int capstan_set_pdeathsig(int sig) {
    return prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) == 0 ? 0 : errno;
}

int capstan_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 ? 0 : errno;
}

int capstan_set_keepcaps(int on) {
    return prctl(PR_SET_KEEPCAPS, on, 0, 0, 0) == 0 ? 0 : errno;
}

int capstan_cap_last_cap(void) {
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    int last = 40;
    if (f != NULL) {
        if (fscanf(f, "%d", &last) != 1) last = 40;
        fclose(f);
    }
    return last;
}

int capstan_restrict_capabilities(unsigned long long keep, int *out_step) {
    *out_step = 0;
    int last = capstan_cap_last_cap();
    for (int cap = 0; cap <= last && cap < 64; cap++) {
        if (keep & (1ULL << cap)) continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
            *out_step = 1;
            return errno;
        }
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
        *out_step = 2;
        return errno;
    }
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    for (int i = 0; i < 2; i++) {
        __u32 word = (__u32)(keep >> (32 * i));
        data[i].effective = word;
        data[i].permitted = word;
        data[i].inheritable = word;
    }
    if (syscall(SYS_capset, &header, data) != 0) {
        *out_step = 3;
        return errno;
    }
    return 0;
}

int capstan_fork(void) {
    return (int)fork();
}

void capstan_decode_wait_status(int status, int *out_exit_code, int *out_signal) {
    *out_exit_code = -1;
    *out_signal = -1;
    if (WIFEXITED(status)) *out_exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) *out_signal = WTERMSIG(status);
}

unsigned long capstan_makedev(unsigned int major, unsigned int minor) {
    return (unsigned long)makedev(major, minor);
}
