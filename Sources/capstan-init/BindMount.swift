import CLinux
import CapstanInitSpec
import Glibc

/// Bind-mounts `mount.source` on `target` (a path in this mount namespace). A source the agent resolved already
/// (`refusesSymlinks`) is opened refusing every symlink on its path, and the inode opened is what gets mounted, so a
/// symlink swapped in since the agent checked it fails the launch instead of leading elsewhere. Read-only is
/// recursive: submounts of the source are read-only too.
func bindMount(_ mount: InitSpec.BindMount, on target: String, what: String) {
    if mount.refusesSymlinks {
        let fd = openRefusingSymlinks(mount.source, what: what)
        defer { close(fd) }
        check(Glibc.mount("/proc/self/fd/\(fd)", target, nil, UInt(MS_BIND | MS_REC), nil), "bind mount \(what) on '\(target)'")
    } else {
        check(Glibc.mount(mount.source, target, nil, UInt(MS_BIND | MS_REC), nil), "bind mount \(what) on '\(target)'")
    }
    guard mount.readOnly else { return }
    let error = capstan_mount_readonly_recursive(target)
    if error == 0 { return }
    guard error == ENOSYS else { fail("make '\(target)' read-only", errno: error) }
    // Before Linux 5.12: the top mount only.
    check(Glibc.mount(nil, target, nil, UInt(MS_BIND | MS_REMOUNT | MS_RDONLY), nil), "remount '\(target)' read-only")
}

/// An O_PATH descriptor of `path`, failing the launch when any component of it is a symlink.
private func openRefusingSymlinks(_ path: String, what: String) -> Int32 {
    let flags = UInt64(CAPSTAN_O_PATH | O_CLOEXEC)
    let fd = capstan_openat2(AT_FDCWD, path, flags, 0, UInt64(CAPSTAN_RESOLVE_NO_SYMLINKS))
    if fd >= 0 { return fd }
    if errno == ELOOP { fail("\(what): a symlink is on its path now; it had none when the agent checked it") }
    guard errno == ENOSYS else { fail("open \(what)", errno: errno) }
    // Before Linux 5.6: one component at a time, never following a link.
    var current = open("/", Int32(CAPSTAN_O_PATH) | O_CLOEXEC)
    if current < 0 { fail("open /", errno: errno) }
    for component in path.split(separator: "/") {
        let next = openat(current, String(component), Int32(CAPSTAN_O_PATH) | O_NOFOLLOW | O_CLOEXEC)
        close(current)
        if next < 0 { fail("open \(what)", errno: errno) }
        var info = stat()
        if fstat(next, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
            fail("\(what): '\(component)' on its path is a symlink now; it had none when the agent checked it")
        }
        current = next
    }
    return current
}
