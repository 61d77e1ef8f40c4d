import CLinux
import CapstanCore
import Foundation
import Glibc

/// Finding a client's path beneath the sandboxes root. The kernel resolves it: `openat2` with `RESOLVE_BENEATH` and no
/// symlinks at all (magic or not), or, where the kernel has no `openat2`, one `O_NOFOLLOW` component at a time from the
/// root's fd (`..` never reaches the kernel: a path with a `..` component is refused as it is parsed). Nothing is checked first and opened later, so a task that swaps a file for a symlink cannot win a race.
extension SandboxFiles {
    /// How paths are resolved; tests force the fallback walk to cover it on kernels that have `openat2`.
    enum Resolution: Sendable {
        /// `openat2`, falling back to the walk when the kernel answers ENOSYS.
        case kernel
        /// The `O_NOFOLLOW` walk only.
        case walk
    }

    /// The kinds of file the API serves; everything else is refused.
    enum Opened {
        case regular(fd: Int32, size: Int64)
        case directory(fd: Int32)
    }

    /// The path relative to the root as components, or nil when `path` is not beneath the root, has a `..`
    /// component, or holds a NUL byte.
    func components(of path: String) -> [String]? {
        guard !path.utf8.contains(0) else { return nil }
        for base in [root, realpath(root)].compactMap({ $0 }) where path == base || path.hasPrefix(base + "/") {
            let parts = path.dropFirst(base.count).split(separator: "/").map(String.init).filter { $0 != "." }
            return parts.contains("..") ? nil : parts
        }
        return nil
    }

    /// Opens `path` for serving: a regular file with no other hard link, or a directory, reached without following
    /// any symlink and without leaving the root. Nil for everything else, which the caller answers as not found.
    /// Never blocks on a FIFO and never opens a device: the type is known (from an `O_PATH` fd) before any real open.
    func open(_ path: String) -> Opened? {
        guard let parts = components(of: path), let handle = resolve(parts) else { return nil }
        defer { close(handle) }
        var info = stat()
        guard fstat(handle, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            // An O_PATH directory fd is a dirfd: "." opens exactly that directory for reading.
            let fd = openat(handle, ".", O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            return .directory(fd: fd)
        case S_IFREG:
            guard info.st_nlink == 1, let fd = reopen(handle, parts: parts) else { return nil }
            var opened = stat()
            guard fstat(fd, &opened) == 0, opened.st_dev == info.st_dev, opened.st_ino == info.st_ino,
                (opened.st_mode & S_IFMT) == S_IFREG, opened.st_nlink == 1
            else {
                close(fd)
                return nil
            }
            return .regular(fd: fd, size: Int64(opened.st_size))
        default:
            return nil  // symlinks, FIFOs, sockets, devices
        }
    }

    /// An `O_PATH` fd for `parts` beneath the root, or nil.
    func resolve(_ parts: [String]) -> Int32? {
        let rootFD = Glibc.open(root, CAPSTAN_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { return nil }
        defer { close(rootFD) }
        if resolution == .kernel {
            let fd = capstan_openat2(
                rootFD, parts.isEmpty ? "." : parts.joined(separator: "/"),
                UInt64(CAPSTAN_O_PATH | O_NOFOLLOW | O_CLOEXEC), 0,
                UInt64(CAPSTAN_RESOLVE_BENEATH | CAPSTAN_RESOLVE_NO_SYMLINKS | CAPSTAN_RESOLVE_NO_MAGICLINKS))
            if fd >= 0 { return fd }
            // ENOSYS: a kernel before 5.6; EPERM: a seccomp filter that does not know openat2. The walk is as strict.
            if errno != ENOSYS && errno != EPERM { return nil }
        }
        return walk(from: rootFD, parts)
    }

    /// Opens one component at a time with `O_PATH | O_NOFOLLOW`; every component but the last must be a directory.
    func walk(from rootFD: Int32, _ parts: [String]) -> Int32? {
        var current = dup(rootFD)
        guard current >= 0 else { return nil }
        for (position, part) in parts.enumerated() {
            let next = openat(current, part, CAPSTAN_O_PATH | O_NOFOLLOW | O_CLOEXEC)
            close(current)
            guard next >= 0 else { return nil }
            current = next
            if position < parts.count - 1 {
                var info = stat()
                guard fstat(current, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                    close(current)
                    return nil
                }
            }
        }
        return current
    }

    /// Opens the very file an `O_PATH` fd names for reading, through `/proc/self/fd` (no second path lookup, so no
    /// race). Without `/proc`, resolves `parts` again with reading flags; the caller compares the inode.
    func reopen(_ handle: Int32, parts: [String]) -> Int32? {
        let flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC
        let fd = Glibc.open("/proc/self/fd/\(handle)", flags)
        if fd >= 0 { return fd }
        guard errno == ENOENT else { return nil }
        let rootFD = Glibc.open(root, CAPSTAN_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0, let parent = walk(from: rootFD, Array(parts.dropLast())) else {
            if rootFD >= 0 { close(rootFD) }
            return nil
        }
        close(rootFD)
        defer { close(parent) }
        guard let base = parts.last else { return nil }
        let reopened = openat(parent, base, flags | O_NOFOLLOW)
        return reopened >= 0 ? reopened : nil
    }
}

/// realpath(3) as a Swift string, or nil.
private func realpath(_ path: String) -> String? {
    guard let resolved = Glibc.realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}
