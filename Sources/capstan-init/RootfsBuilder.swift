import CLinux
import CapstanInitSpec
import Glibc

/// Assembles the container's root in PID 1's private mount namespace and pivots into it. Every mount made here
/// lives only in that namespace, so it vanishes with the container: nothing to unmount on the host.
struct RootfsBuilder {
    let spec: InitSpec
    let rootfs: InitSpec.Rootfs
    var root: String { rootfs.mountPoint }

    func build() {
        mountRoot()
        mountProc()
        mountDev()
        mountSys()
        bind(InitSpec.BindMount(source: spec.sandboxDirectory, target: spec.sandboxTarget, readOnly: false), what: "the sandbox")
        for mount in spec.mounts { bind(mount, what: "'\(mount.source)'") }
        pivot()
    }

    private func mountRoot() {
        switch rootfs.mode {
        case .overlay:
            guard let upper = rootfs.upperDirectory, let work = rootfs.workDirectory, !rootfs.lowerDirectories.isEmpty else {
                fail("mount overlay: the spec names no layers or no upper/work dir")
            }
            let lower = rootfs.lowerDirectories.reversed().joined(separator: ":")
            let options = "lowerdir=\(lower),upperdir=\(upper),workdir=\(work)"
            check(mount("overlay", root, "overlay", 0, options), "mount overlay on '\(root)'")
        case .bind:
            guard let source = rootfs.lowerDirectories.first else { fail("mount rootfs: the spec names no directory") }
            check(mount(source, root, nil, UInt(MS_BIND | MS_REC), nil), "bind mount rootfs '\(source)' on '\(root)'")
        }
    }

    private func mountProc() {
        let target = makeDirectory("/proc")
        check(mount("proc", target, "proc", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), nil), "mount proc on '\(target)'")
    }

    private func mountDev() {
        let dev = makeDirectory("/dev")
        check(mount("tmpfs", dev, "tmpfs", UInt(MS_NOSUID | MS_STRICTATIME), "mode=755,size=65536k"), "mount tmpfs on '\(dev)'")
        // The same character devices as the host's (crun's default set); mknod where allowed (one syscall each),
        // else a bind mount of the host's node (e.g. when device creation is forbidden).
        let nodes: [(String, UInt32, UInt32)] = [("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0)]
        let previous = umask(0)
        defer { umask(previous) }
        for (node, major, minor) in nodes {
            let target = dev + "/" + node
            if mknod(target, S_IFCHR | 0o666, capstan_makedev(major, minor)) == 0 { continue }
            let fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o666)
            if fd < 0 { fail("create '\(target)'", errno: errno) }
            close(fd)
            check(mount("/dev/" + node, target, nil, UInt(MS_BIND), nil), "bind mount /dev/\(node) on '\(target)'")
        }
        for node in spec.deviceNodes { makeNode(node) }
        check(mkdir(dev + "/pts", 0o755), "mkdir '\(dev)/pts'")
        check(mount("devpts", dev + "/pts", "devpts", UInt(MS_NOSUID | MS_NOEXEC), "newinstance,ptmxmode=0666,mode=0620"),
              "mount devpts on '\(dev)/pts'")
        check(symlink("pts/ptmx", dev + "/ptmx"), "symlink '\(dev)/ptmx'")
        check(mkdir(dev + "/shm", 0o1777), "mkdir '\(dev)/shm'")
        check(mount("shm", dev + "/shm", "tmpfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), "mode=1777,size=65536k"),
              "mount tmpfs on '\(dev)/shm'")
        for (name, target) in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                               ("stderr", "/proc/self/fd/2")] {
            check(symlink(target, dev + "/" + name), "symlink '\(dev)/\(name)'")
        }
    }

    /// Makes one of the spec's device nodes (umask is 0 here), its missing parent directories first (mode 0755), then
    /// gives it its owner. Refuses a path outside `/dev` or with `..`.
    private func makeNode(_ node: InitSpec.DeviceNode) {
        guard InitSpec.DeviceNode.isAllowedPath(node.path) else {
            fail("device node '\(node.path)': only nodes under /dev (without '..') are made")
        }
        let parent = String(node.path[..<node.path.lastIndex(of: "/")!])
        let target = makeDirectory(parent) + "/" + node.path[node.path.index(after: node.path.lastIndex(of: "/")!)...]
        let block = node.kind == "b"
        let type = block ? S_IFBLK : S_IFCHR
        let kind = block ? "block" : "char"
        check(
            mknod(target, type | mode_t(node.mode ?? 0o666), capstan_makedev(node.major, node.minor)),
            "mknod '\(target)' (\(kind) \(node.major):\(node.minor))")
        if node.uid != nil || node.gid != nil {
            check(lchown(target, node.uid ?? 0, node.gid ?? 0), "chown of device node '\(target)'")
        }
    }

    private func mountSys() {
        let sys = makeDirectory("/sys")
        let flags = UInt(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
        if mount("sysfs", sys, "sysfs", flags, nil) == 0 { return }
        // Without a network namespace of its own, sysfs may refuse a new instance: bind the host's read-only.
        check(mount("/sys", sys, nil, UInt(MS_BIND | MS_REC), nil), "mount sysfs on '\(sys)'")
        check(mount(nil, sys, nil, UInt(MS_BIND | MS_REMOUNT | MS_RDONLY) | flags, nil), "remount '\(sys)' read-only")
    }

    private func bind(_ mount: InitSpec.BindMount, what: String) {
        stage = .mounts
        defer { stage = .rootfs }
        let target = mount.target
        var info = stat()
        check(stat(mount.source, &info), "stat \(what)")
        let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        let resolved: String
        if isDirectory {
            resolved = makeDirectory(target)
        } else {
            let parent = makeDirectory(String(target[..<(target.lastIndex(of: "/") ?? target.startIndex)]))
            resolved = parent + "/" + String(target[target.index(after: target.lastIndex(of: "/") ?? target.startIndex)...])
            let fd = open(resolved, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
            if fd < 0 { fail("create mount target '\(target)'", errno: errno) }
            close(fd)
        }
        bindMount(mount, on: resolved, what: what)
    }

    /// `mkdir -p` of `path` inside the root, refusing symlinks along the way (so an image cannot point a mount
    /// target outside its root). Returns the host path.
    @discardableResult
    private func makeDirectory(_ path: String) -> String {
        var current = root
        for component in path.split(separator: "/") where component != "." {
            if component == ".." { fail("mount target '\(path)': '..' is not allowed") }
            current += "/" + component
            var info = stat()
            if lstat(current, &info) == 0 {
                if (info.st_mode & S_IFMT) == S_IFLNK { fail("mount target '\(path)': '\(current)' is a symlink") }
                if (info.st_mode & S_IFMT) != S_IFDIR { fail("mount target '\(path)': '\(current)' is not a directory") }
                continue
            }
            if mkdir(current, 0o755) != 0 && errno != EEXIST { fail("mkdir '\(current)'", errno: errno) }
        }
        return current
    }

    /// pivot_root(".", ".") as runc does: no put_old directory needed, the old root is detached right after.
    private func pivot() {
        check(chdir(root), "chdir '\(root)'")
        check(capstan_pivot_root(".", "."), "pivot_root")
        check(umount2(".", Int32(MNT_DETACH)), "umount of the old root")
        check(chdir("/"), "chdir /")
    }
}
