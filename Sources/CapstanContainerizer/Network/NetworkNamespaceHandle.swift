import CapstanCore
import CapstanLinux
import Foundation
import Glibc

/// A network namespace held open by a bind mount of `/proc/<pid>/ns/net` on a file (no pause process): plugins reach
/// it by that path (`CNI_NETNS`) for as long as the mount exists, even after the container's processes have gone.
enum NetworkNamespaceHandle {
    /// The identity (device and inode) of a process's network namespace; nil when the process is gone.
    static func identity(ofProcess pid: Int32) -> (UInt, UInt)? {
        identity(of: "/proc/\(pid)/ns/net")
    }

    /// The identity of the agent's own network namespace.
    static func own() -> (UInt, UInt)? { identity(of: "/proc/self/ns/net") }

    static func identity(of path: String) -> (UInt, UInt)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (UInt(info.st_dev), UInt(info.st_ino))
    }

    /// Binds process `pid`'s network namespace on `path` (created as an empty file).
    static func hold(pid: Int32, at path: String) throws(CapstanError) {
        let fd = Syscall.retrying { open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600) }
        guard fd >= 0 else { throw CapstanError.system("cannot create the network namespace handle \(path)", errno: errno) }
        close(fd)
        guard mount("/proc/\(pid)/ns/net", path, nil, UInt(MS_BIND), nil) == 0 else {
            throw CapstanError.system("cannot bind-mount the network namespace of process \(pid) on \(path)", errno: errno)
        }
    }

    /// Whether `path` holds a namespace (a bind mount is in place), as opposed to the plain file under it.
    static func isHeld(_ path: String) -> Bool {
        var info = stat(), parent = stat()
        guard stat(path, &info) == 0 else { return false }
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
        guard stat(directory.isEmpty ? "/" : directory, &parent) == 0 else { return false }
        return info.st_dev != parent.st_dev
    }

    /// The containers whose network namespace handle (a mount on `…/<container id>/ns`, this agent's or another's on
    /// the host) is in place: they exist, whatever journal the reading agent has.
    static func heldContainerIDs() -> Set<String> {
        guard let data = FileManager.default.contents(atPath: "/proc/self/mountinfo") else { return [] }
        return heldContainerIDs(mountinfo: String(decoding: data, as: UTF8.self))
    }

    /// `heldContainerIDs()` from the text of a mountinfo file.
    static func heldContainerIDs(mountinfo: String) -> Set<String> {
        var ids: Set<String> = []
        for line in mountinfo.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count > 4 else { continue }
            let components = HostPaths.unescapeMountField(String(fields[4])).split(separator: "/")
            guard components.count >= 2, components.last == "ns" else { continue }
            ids.insert(String(components[components.count - 2]))
        }
        return ids
    }

    /// Unmounts the handle (lazily, so a plugin still holding it does not make this fail) and removes the file.
    static func release(_ path: String) throws(CapstanError) {
        if isHeld(path), umount2(path, Int32(MNT_DETACH)) != 0, errno != EINVAL, errno != ENOENT {
            throw CapstanError.system("cannot unmount the network namespace handle \(path)", errno: errno)
        }
        if unlink(path) != 0, errno != ENOENT {
            throw CapstanError.system("cannot remove the network namespace handle \(path)", errno: errno)
        }
    }
}
