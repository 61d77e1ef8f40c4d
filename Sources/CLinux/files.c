// Kernel-checked path resolution (openat2) for serving files beneath a root; see capstan_openat2 in CLinux.h.
#include "CLinux.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

// The kernel's struct open_how (linux/openat2.h), spelled out so that old kernel headers do not matter.
struct capstan_open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};

int capstan_openat2(int dirfd, const char *path, unsigned long long flags, unsigned long long mode,
                    unsigned long long resolve) {
    struct capstan_open_how how;
    memset(&how, 0, sizeof how);
    how.flags = flags;
    how.mode = mode;
    how.resolve = resolve;
    for (;;) {
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        if (fd >= 0) return (int)fd;
        if (errno != EINTR) return -1;
    }
}

int capstan_syncfs(int fd) { return syncfs(fd); }

int capstan_fs_type(const char *path, unsigned long long *out_type) {
    struct statfs info;
    if (statfs(path, &info) != 0) return errno;
    *out_type = (unsigned long long)info.f_type;
    return 0;
}
