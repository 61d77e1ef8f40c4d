import CapstanCore
import CapstanLinux
import Foundation

/// File-system operations confined to one directory tree: every path is walked component by component with
/// `O_NOFOLLOW`, so no symlink inside the tree can redirect a write outside it.
final class LayerRoot {
    let path: String
    let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw CapstanError(.notFound, "cannot open layer directory \(path): \(errnoText(errno))") }
    }

    deinit { close(fd) }

    /// Why a walk stopped.
    enum WalkFailure: Error {
        case symlink(String)
        case notDirectory(String)
        case missing(String)
        case system(String, String)
    }

    /// Opens the directory at `components` (relative to the root), creating missing ones when `create` is set.
    /// The caller closes the returned descriptor.
    func openDirectory(_ components: ArraySlice<String>, create: Bool) throws(WalkFailure) -> Int32 {
        var current = dup(fd)
        var walked: [String] = []
        for name in components {
            walked.append(name)
            var next = openat(current, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT && create {
                if mkdirat(current, name, 0o755) != 0 && errno != EEXIST {
                    let reason = errnoText(errno)
                    close(current)
                    throw .system(walked.joined(separator: "/"), reason)
                }
                next = openat(current, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            if next < 0 {
                let code = errno
                var st = stat()
                let isLink = fstatat(current, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
                close(current)
                let path = walked.joined(separator: "/")
                if isLink { throw .symlink(path) }
                if code == ENOENT { throw .missing(path) }
                if code == ENOTDIR || code == ELOOP { throw .notDirectory(path) }
                throw .system(path, String(cString: strerror(code)))
            }
            close(current)
            current = next
        }
        return current
    }

    /// The type bits of `name` in `dir`, or nil when it does not exist. Does not follow symlinks.
    static func type(of name: String, in dir: Int32) -> mode_t? {
        var st = stat()
        guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        return st.st_mode & S_IFMT
    }

    /// Removes `name` in `dir` and, for a directory, everything under it, never following symlinks.
    static func removeTree(_ name: String, in dir: Int32) throws {
        guard let type = type(of: name, in: dir) else { return }
        if type == S_IFDIR {
            let child = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard child >= 0 else { throw CapstanError.system("cannot open \(name) to remove it", errno: errno) }
            defer { close(child) }
            fchmod(child, 0o700)
            for entry in try children(of: child) { try removeTree(entry, in: child) }
            guard unlinkat(dir, name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
                throw CapstanError.system("cannot remove directory \(name)", errno: errno)
            }
        } else {
            guard unlinkat(dir, name, 0) == 0 || errno == ENOENT else {
                throw CapstanError.system("cannot remove \(name)", errno: errno)
            }
        }
    }

    /// The names in the open directory `dir`, without `.` and `..`.
    static func children(of dir: Int32) throws -> [String] {
        let copy = dup(dir)
        guard copy >= 0, let stream = fdopendir(copy) else {
            throw CapstanError.system("cannot list a directory", errno: errno)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

/// The text of the current `errno`.

