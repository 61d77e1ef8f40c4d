// cgroup v2 device programs: bpf(2) BPF_PROG_LOAD, BPF_PROG_ATTACH and BPF_PROG_QUERY for
// BPF_PROG_TYPE_CGROUP_DEVICE; see the declarations in CLinux.h.
#include "CLinux.h"

#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long capstan_bpf(int cmd, union bpf_attr *attr) {
    long result;
    do {
        result = syscall(SYS_bpf, cmd, attr, sizeof *attr);
    } while (result < 0 && errno == EINTR);
    return result;
}

static int capstan_bpf_load(const void *insns, unsigned int count, const char *license, unsigned int log_level,
                            char *log, unsigned int log_size) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (unsigned long long)(unsigned long)insns;
    attr.insn_cnt = count;
    attr.license = (unsigned long long)(unsigned long)license;
    attr.log_level = log_level;
    attr.log_buf = (unsigned long long)(unsigned long)log;
    attr.log_size = log_size;
    strncpy(attr.prog_name, "capstan_devices", sizeof attr.prog_name - 1);
    long fd = capstan_bpf(BPF_PROG_LOAD, &attr);
    return fd < 0 ? -errno : (int)fd;
}

int capstan_bpf_cgroup_device_load(const void *insns, unsigned int count, const char *license, char *log,
                                   unsigned int log_size) {
    if (log != NULL && log_size > 0) log[0] = '\0';
    int fd = capstan_bpf_load(insns, count, license, 0, NULL, 0);
    if (fd >= 0 || log == NULL || log_size == 0) return fd;
    // Again with the verifier's log, for the error message; the first errno is the one reported.
    int again = capstan_bpf_load(insns, count, license, 1, log, log_size);
    if (again >= 0) close(again);
    return fd;
}

int capstan_bpf_cgroup_device_attach(int cgroup_fd, int prog_fd) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (unsigned int)cgroup_fd;
    attr.attach_bpf_fd = (unsigned int)prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = 0;
    return capstan_bpf(BPF_PROG_ATTACH, &attr) < 0 ? errno : 0;
}

int capstan_bpf_cgroup_device_count(int cgroup_fd) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.query.target_fd = (unsigned int)cgroup_fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = 0;
    attr.query.prog_cnt = 0;
    if (capstan_bpf(BPF_PROG_QUERY, &attr) < 0) return -errno;
    return (int)attr.query.prog_cnt;
}
