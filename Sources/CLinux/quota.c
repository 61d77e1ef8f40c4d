// Project quotas (disk/xfs): project IDs on files (FS_IOC_FSGETXATTR/FS_IOC_FSSETXATTR) and per-project limits and
// usage (quotactl PRJQUOTA); see the declarations in CLinux.h.
#include "CLinux.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/dqblk_xfs.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/quota.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PRJQUOTA
#define PRJQUOTA 2
#endif

int capstan_project_get(int fd, unsigned int *out_project, int *out_inherit) {
    struct fsxattr attr;
    memset(&attr, 0, sizeof attr);
    if (ioctl(fd, FS_IOC_FSGETXATTR, &attr) != 0) return errno;
    *out_project = attr.fsx_projid;
    *out_inherit = (attr.fsx_xflags & FS_XFLAG_PROJINHERIT) != 0;
    return 0;
}

int capstan_project_set(int fd, unsigned int project, int inherit) {
    struct fsxattr attr;
    memset(&attr, 0, sizeof attr);
    if (ioctl(fd, FS_IOC_FSGETXATTR, &attr) != 0) return errno;
    attr.fsx_projid = project;
    if (inherit) {
        attr.fsx_xflags |= FS_XFLAG_PROJINHERIT;
    } else {
        attr.fsx_xflags &= ~FS_XFLAG_PROJINHERIT;
    }
    if (ioctl(fd, FS_IOC_FSSETXATTR, &attr) != 0) return errno;
    return 0;
}

// nftw has no context argument: one tree walk per thread at a time, its state here.
static __thread unsigned int tree_project;
static __thread int tree_inherit;
static __thread unsigned long long tree_count;
static __thread int tree_error;
static __thread char *tree_failed;
static __thread size_t tree_failed_len;

static int tree_visit(const char *path, const struct stat *info, int type, struct FTW *ftw) {
    (void)ftw;
    (void)type;
    int directory = S_ISDIR(info->st_mode);
    // Only files and directories take a project: symlinks, devices, fifos and sockets are left alone (opening a
    // fifo or a device could block or act on it).
    if (!directory && !S_ISREG(info->st_mode)) return 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    int err = fd < 0 ? errno : capstan_project_set(fd, tree_project, directory && tree_inherit);
    if (fd >= 0) close(fd);
    if (err == ENOENT) return 0;  // gone meanwhile
    if (err != 0) {
        tree_error = err;
        if (tree_failed && tree_failed_len > 0) {
            strncpy(tree_failed, path, tree_failed_len - 1);
            tree_failed[tree_failed_len - 1] = 0;
        }
        return 1;
    }
    tree_count++;
    return 0;
}

int capstan_project_set_tree(const char *root, unsigned int project, int inherit, unsigned long long *out_count,
                             char *failed_path, size_t failed_len) {
    tree_project = project;
    tree_inherit = inherit;
    tree_count = 0;
    tree_error = 0;
    tree_failed = failed_path;
    tree_failed_len = failed_len;
    if (failed_path && failed_len > 0) failed_path[0] = 0;
    int rc = nftw(root, tree_visit, 32, FTW_PHYS | FTW_MOUNT);
    *out_count = tree_count;
    tree_failed = NULL;
    if (rc < 0) {
        int err = errno;
        if (failed_path && failed_len > 0 && failed_path[0] == 0) {
            strncpy(failed_path, root, failed_len - 1);
            failed_path[failed_len - 1] = 0;
        }
        return err ? err : EIO;
    }
    return rc == 0 ? 0 : tree_error;
}

int capstan_project_quota_state(const char *device, int xfs, int *out_accounting, int *out_enforced) {
    *out_accounting = 0;
    *out_enforced = 0;
    if (xfs) {
        struct fs_quota_stat stat;
        memset(&stat, 0, sizeof stat);
        if (quotactl(QCMD(Q_XGETQSTAT, PRJQUOTA), device, 0, (caddr_t)&stat) != 0) return errno;
        *out_accounting = (stat.qs_flags & FS_QUOTA_PDQ_ACCT) != 0;
        *out_enforced = (stat.qs_flags & FS_QUOTA_PDQ_ENFD) != 0;
        return 0;
    }
    struct if_dqinfo info;
    memset(&info, 0, sizeof info);
    if (quotactl(QCMD(Q_GETINFO, PRJQUOTA), device, 0, (caddr_t)&info) != 0) return errno;
    // The generic quota code enforces the limits of every quota type it has turned on.
    *out_accounting = 1;
    *out_enforced = 1;
    return 0;
}

int capstan_project_quota_get(const char *device, int xfs, unsigned int id, unsigned long long *out_used,
                              unsigned long long *out_hard_limit) {
    *out_used = 0;
    *out_hard_limit = 0;
    if (xfs) {
        struct fs_disk_quota quota;
        memset(&quota, 0, sizeof quota);
        if (quotactl(QCMD(Q_XGETQUOTA, PRJQUOTA), device, (int)id, (caddr_t)&quota) != 0) {
            // XFS has no dquot for a project that owns nothing and has no limit.
            return errno == ENOENT ? 0 : errno;
        }
        *out_used = quota.d_bcount * 512ULL;
        *out_hard_limit = quota.d_blk_hardlimit * 512ULL;
        return 0;
    }
    struct if_dqblk quota;
    memset(&quota, 0, sizeof quota);
    if (quotactl(QCMD(Q_GETQUOTA, PRJQUOTA), device, (int)id, (caddr_t)&quota) != 0) return errno;
    *out_used = quota.dqb_curspace;
    *out_hard_limit = quota.dqb_bhardlimit * 1024ULL;
    return 0;
}

int capstan_project_quota_set(const char *device, int xfs, unsigned int id, unsigned long long bytes) {
    if (xfs) {
        struct fs_disk_quota quota;
        memset(&quota, 0, sizeof quota);
        quota.d_version = FS_DQUOT_VERSION;
        quota.d_flags = FS_PROJ_QUOTA;
        quota.d_fieldmask = FS_DQ_BSOFT | FS_DQ_BHARD;
        quota.d_id = id;
        quota.d_blk_hardlimit = (bytes + 511) / 512;
        quota.d_blk_softlimit = 0;
        if (quotactl(QCMD(Q_XSETQLIM, PRJQUOTA), device, (int)id, (caddr_t)&quota) != 0) return errno;
        return 0;
    }
    struct if_dqblk quota;
    memset(&quota, 0, sizeof quota);
    quota.dqb_bhardlimit = (bytes + 1023) / 1024;
    quota.dqb_bsoftlimit = 0;
    quota.dqb_valid = QIF_BLIMITS;
    if (quotactl(QCMD(Q_SETQUOTA, PRJQUOTA), device, (int)id, (caddr_t)&quota) != 0) return errno;
    return 0;
}
