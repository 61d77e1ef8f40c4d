// I/O and CPU priority of the calling thread, for background work (disk usage measurement) that must never starve
// the host: calls Swift cannot make (ioprio_set and gettid have no glibc wrapper before 2.30, syscall is variadic).
#include "CLinux.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// linux/ioprio.h: IOPRIO_WHO_PROCESS targets one thread when given a thread id; class in the top 3 of 16 bits.
#define CAPSTAN_IOPRIO_WHO_PROCESS 1
#define CAPSTAN_IOPRIO_CLASS_SHIFT 13

int capstan_gettid(void) {
    return (int)syscall(SYS_gettid);
}

int capstan_ioprio_set_self(int io_class, int level) {
    int value = (io_class << CAPSTAN_IOPRIO_CLASS_SHIFT) | (level & 0x7);
    return syscall(SYS_ioprio_set, CAPSTAN_IOPRIO_WHO_PROCESS, (int)syscall(SYS_gettid), value) == 0 ? 0 : errno;
}

int capstan_ioprio_class_self(void) {
    long value = syscall(SYS_ioprio_get, CAPSTAN_IOPRIO_WHO_PROCESS, (int)syscall(SYS_gettid));
    return value < 0 ? -errno : (int)(value >> CAPSTAN_IOPRIO_CLASS_SHIFT);
}

unsigned long long capstan_thread_cpu_ns(void) {
    struct timespec now;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) != 0) return 0;
    return (unsigned long long)now.tv_sec * 1000000000ULL + (unsigned long long)now.tv_nsec;
}

int capstan_nice_self(int nice) {
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice) == 0 ? 0 : errno;
}
