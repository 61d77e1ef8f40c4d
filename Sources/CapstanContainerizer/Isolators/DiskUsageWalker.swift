import CapstanCore
import CapstanLinux
import Glibc

/// What ``DiskUsageWalker`` found under its roots.
public struct DiskUsage: Sendable, Hashable {
    /// Space allocated on disk (`st_blocks` × 512, as `du -s -B1` counts it).
    public var bytes: UInt64 = 0
    /// Files, directories and other entries counted (hard links once).
    public var entries: Int = 0
    /// Directories left out because another filesystem is mounted on them (`du -x`).
    public var otherFilesystems: Int = 0
    /// Directories that could not be opened (e.g. mode 000 without root); their own size is counted, not what they hold.
    public var unreadable: Int = 0

    public init() {}
}

/// Measures disk usage as `du -s -x` does, without spawning `du`: `openat`/`fstatat` on each entry, no symlink followed
/// (a symlink counts its own blocks), `st_blocks` × 512 (sparse files count what they allocate), an inode with several
/// hard links counted once across all roots, and mount points on another filesystem left out with what they hold.
///
/// Directories are walked depth-first from file descriptors, never from paths, so a container that renames or swaps
/// a directory for a symlink while it is measured cannot send the walk outside its roots. At most
/// ``maxOpenDirectories`` descriptors are held: deeper, ancestors are closed and reopened through `..` on the way
/// back, checked against the device and inode seen on the way down (the walk ends with an error if they differ).
/// A directory that contains one of its ancestors (a bind mount of it on the same filesystem) is not entered twice.
///
/// Blocking: call on a dedicated thread (``DiskUsageMeasurer`` does, at idle I/O priority).
public enum DiskUsageWalker {
    /// How many directory descriptors one walk holds at most.
    public static let maxOpenDirectories = 128

    /// Measures `roots` together; a root that does not exist counts zero.
    /// - Parameter shouldStop: checked every few hundred entries; when it returns `true` the walk throws
    ///   `CancellationError`.
    /// - Throws: ``CapstanError`` when a root cannot be read or the tree changed under the walk in a way that makes
    ///   its count wrong; `CancellationError` when stopped.
    public static func measure(_ roots: [String], shouldStop: () -> Bool = { false }) throws -> DiskUsage {
        try withoutActuallyEscaping(shouldStop) { shouldStop in
            var walk = Walk(shouldStop: shouldStop)
            for root in roots { try walk.measure(root) }
            return walk.usage
        }
    }
}

/// One walk's state: the total, the inodes with several links already counted, and the stack of open directories.
private struct Walk {
    struct Key: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// A directory being walked: its descriptor (`-1` while closed to spare descriptors), identity, and the
    /// subdirectories (name, inode) still to enter.
    struct Frame {
        var fd: Int32
        var key: Key
        var pending: [(name: String, inode: UInt64)]
    }

    let shouldStop: () -> Bool
    var usage = DiskUsage()
    var linked: Set<Key> = []
    var sinceCheck = 0

    init(shouldStop: @escaping () -> Bool) {
        self.shouldStop = shouldStop
    }

    mutating func measure(_ root: String) throws {
        var info = stat()
        guard lstat(root, &info) == 0 else {
            if errno == ENOENT { return }
            throw CapstanError.system("Failed to measure disk usage: lstat '\(root)'", errno: errno)
        }
        count(info)
        guard info.st_mode & S_IFMT == S_IFDIR else { return }
        let device = UInt64(info.st_dev)
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return }
            throw CapstanError.system("Failed to measure disk usage: open '\(root)'", errno: errno)
        }
        var opened = stat()
        guard fstat(fd, &opened) == 0, opened.st_dev == info.st_dev, opened.st_ino == info.st_ino else {
            close(fd)
            throw CapstanError(.conflict, "Failed to measure disk usage: '\(root)' was replaced while it was measured")
        }
        var stack: [Frame] = []
        defer { for frame in stack where frame.fd >= 0 { close(frame.fd) } }
        var ancestors: Set<Key> = []
        var lowestOpen = 0
        let rootKey = Key(device: device, inode: UInt64(info.st_ino))
        stack.append(Frame(fd: fd, key: rootKey, pending: []))
        stack[0].pending = try scan(fd, device: device)
        ancestors.insert(rootKey)
        while !stack.isEmpty {
            let top = stack.count - 1
            if let next = stack[top].pending.popLast() {
                let key = Key(device: device, inode: next.inode)
                if ancestors.contains(key) { continue }
                let child = openat(stack[top].fd, next.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard child >= 0 else {
                    // Gone or replaced since the scan: nothing to count. Unreadable: its own size was counted.
                    if errno != ENOENT && errno != ENOTDIR && errno != ELOOP { usage.unreadable += 1 }
                    continue
                }
                var childInfo = stat()
                guard fstat(child, &childInfo) == 0, UInt64(childInfo.st_dev) == device, UInt64(childInfo.st_ino) == next.inode else {
                    close(child)  // replaced by another directory, or a mount appeared on it, since the scan
                    continue
                }
                let pending: [(name: String, inode: UInt64)]
                do { pending = try scan(child, device: device) } catch {
                    close(child)
                    throw error
                }
                stack.append(Frame(fd: child, key: key, pending: pending))
                ancestors.insert(key)
                if stack.count - lowestOpen > DiskUsageWalker.maxOpenDirectories {
                    close(stack[lowestOpen].fd)
                    stack[lowestOpen].fd = -1
                    lowestOpen += 1
                }
            } else {
                let done = stack.removeLast()
                ancestors.remove(done.key)
                defer { close(done.fd) }
                guard let parent = stack.indices.last, stack[parent].fd < 0 else { continue }
                let reopened = openat(done.fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                var parentInfo = stat()
                guard reopened >= 0, fstat(reopened, &parentInfo) == 0,
                    UInt64(parentInfo.st_dev) == stack[parent].key.device, UInt64(parentInfo.st_ino) == stack[parent].key.inode
                else {
                    if reopened >= 0 { close(reopened) }
                    throw CapstanError(
                        .conflict, "Failed to measure disk usage under '\(root)': a directory deeper than \(DiskUsageWalker.maxOpenDirectories) levels moved while it was measured")
                }
                stack[parent].fd = reopened
                lowestOpen = parent
            }
        }
    }

    /// What `fstatat` found for one directory entry.
    enum Found {
        case gone
        case other
        case directory(String)
    }

    /// Counts every entry of directory `fd` (subdirectories on `device` included, their content not yet) and returns
    /// the subdirectories to enter.
    mutating func scan(_ fd: Int32, device: UInt64) throws -> [(name: String, inode: UInt64)] {
        let copy = dup(fd)  // fdopendir takes the descriptor; the walk keeps `fd` for openat
        guard copy >= 0, let directory = fdopendir(copy) else {
            let code = errno
            if copy >= 0 { close(copy) }
            throw CapstanError.system("Failed to measure disk usage: fdopendir", errno: code)
        }
        defer { closedir(directory) }
        var subdirectories: [(name: String, inode: UInt64)] = []
        var info = stat()
        while let entry = readdir(directory) {
            let isDot = withUnsafeBytes(of: entry.pointee.d_name) { name in
                name[0] == 0x2E && (name[1] == 0 || (name[1] == 0x2E && name[2] == 0))
            }
            if isDot { continue }
            sinceCheck += 1
            if sinceCheck >= 256 {
                sinceCheck = 0
                if shouldStop() { throw CancellationError() }
            }
            let found = withUnsafePointer(to: entry.pointee.d_name) { name in
                name.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { name -> Found in
                    guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return .gone }  // removed since readdir
                    return info.st_mode & S_IFMT == S_IFDIR ? .directory(String(cString: name)) : .other
                }
            }
            switch found {
            case .gone:
                continue
            case .other:
                count(info)
            case .directory where UInt64(info.st_dev) != device:
                usage.otherFilesystems += 1  // a mount point: `du -x` counts neither it nor what it holds
            case .directory(let name):
                count(info)
                subdirectories.append((name, UInt64(info.st_ino)))
            }
        }
        return subdirectories
    }

    /// Adds one entry's blocks, once per inode for files with several hard links.
    mutating func count(_ info: stat) {
        if info.st_mode & S_IFMT != S_IFDIR, info.st_nlink > 1 {
            guard linked.insert(Key(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))).inserted else { return }
        }
        usage.entries += 1
        usage.bytes += UInt64(max(0, info.st_blocks)) * 512
    }
}
