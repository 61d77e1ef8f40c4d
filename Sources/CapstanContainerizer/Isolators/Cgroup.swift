public import CapstanCore
import CapstanLinux
import Foundation
import Glibc

/// One controller's hierarchy: cgroup v1 (`/sys/fs/cgroup/<controller>`) or v2 (the unified hierarchy with the
/// controller enabled). Container cgroups are `<root>/capstan/<container-id>`.
public struct CgroupHierarchy: Sendable, Hashable {
    /// The cgroup version of the hierarchy.
    public enum Version: Sendable, Hashable { case v1, v2 }

    public var controller: String
    public var root: String
    public var version: Version

    /// Creates a hierarchy description.
    public init(controller: String, root: String, version: Version) {
        self.controller = controller
        self.root = root
        self.version = version
    }

    /// Finds `controller`: a v1 mount at `/sys/fs/cgroup/<controller>` first, else a v2 hierarchy at
    /// `/sys/fs/cgroup` that lists it in `cgroup.controllers`. `nil` when neither exists.
    public static func find(_ controller: String, base: String = "/sys/fs/cgroup") -> CgroupHierarchy? {
        let v1 = base + "/" + controller
        if FileManager.default.fileExists(atPath: v1 + "/cgroup.procs"), !FileManager.default.fileExists(atPath: v1 + "/cgroup.controllers") {
            let resolved = (try? FileManager.default.destinationOfSymbolicLink(atPath: v1)).map { $0.hasPrefix("/") ? $0 : base + "/" + $0 }
            return CgroupHierarchy(controller: controller, root: resolved ?? v1, version: .v1)
        }
        let v2Controller = controller == "cpuacct" ? "cpu" : controller
        if let list = try? String(contentsOfFile: base + "/cgroup.controllers", encoding: .utf8),
            list.split(whereSeparator: { $0.isWhitespace }).contains(Substring(v2Controller))
        {
            return CgroupHierarchy(controller: v2Controller, root: base, version: .v2)
        }
        return nil
    }

    /// A cgroup v2 hierarchy at `root` used without any controller (``controller`` is empty): for what the kernel does
    /// per cgroup without one, such as running the device BPF program attached to it. Creating a container's cgroup
    /// then enables nothing in `cgroup.subtree_control`.
    public static func unified(root: String) -> CgroupHierarchy {
        CgroupHierarchy(controller: "", root: root, version: .v2)
    }

    /// `<root>/capstan`.
    public var parent: String { root + "/capstan" }

    /// `<root>/capstan/<id>`.
    public func path(of id: ContainerID) -> String { parent + "/\(id)" }

    /// Creates the container's cgroup (idempotent); on v2 it first enables the controller (if any) for `capstan/`'s
    /// children.
    func create(_ id: ContainerID) throws {
        let enables = version == .v2 && !controller.isEmpty
        if enables {
            try? Cgroup.write("+\(controller)", to: root + "/cgroup.subtree_control")
        }
        for directory in [parent, path(of: id)] where mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw CapstanError.system("mkdir '\(directory)'", errno: errno)
        }
        if enables {
            do { try Cgroup.write("+\(controller)", to: parent + "/cgroup.subtree_control") } catch {
                throw CapstanError(.unsupported, "cannot enable the \(controller) controller in '\(parent)': \(error)")
            }
        }
    }

    /// Checks that containers' cgroups can be made here: creates `<root>/capstan` (idempotent) and checks it is writable.
    /// - Throws: ``CapstanError`` naming the directory and the errno (e.g. a read-only cgroupfs, or not root).
    func checkUsable() throws {
        if mkdir(parent, 0o755) != 0 && errno != EEXIST { throw CapstanError.system("mkdir '\(parent)'", errno: errno) }
        let fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw CapstanError.system("open '\(parent)' as a directory", errno: errno) }
        close(fd)
        if access(parent, W_OK) != 0 { throw CapstanError.system("access '\(parent)' for writing", errno: errno) }
    }

    /// Moves `pid` into the container's cgroup.
    func add(_ id: ContainerID, pid: Int32) throws {
        try Cgroup.write("\(pid)", to: path(of: id) + "/cgroup.procs")
    }

    /// Kills whatever is left in the container's cgroup and removes it; a missing cgroup is fine.
    func destroy(_ id: ContainerID) async throws {
        let directory = path(of: id)
        for attempt in 0..<50 {
            if rmdir(directory) == 0 || errno == ENOENT { return }
            let err = errno
            guard err == EBUSY, attempt < 49 else { throw CapstanError.system("rmdir '\(directory)'", errno: err) }
            for pid in Cgroup.pids(in: directory) { kill(pid, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Reading and writing cgroup control files.
enum Cgroup {
    /// Writes `value` to a control file (no truncation semantics: cgroupfs takes each write whole).
    static func write(_ value: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CapstanError.system("open '\(path)'", errno: errno) }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if n < 0 { throw CapstanError.system("write '\(value)' to '\(path)'", errno: errno) }
    }

    /// A control file's content, or `nil` when unreadable.
    static func read(_ path: String) -> String? {
        try? String(contentsOfFile: path, encoding: .utf8)
    }

    /// A control file holding one integer.
    static func readInt(_ path: String) -> UInt64? {
        read(path).flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// `key value` lines (memory.stat, cpu.stat, memory.events, memory.oom_control) as a dictionary.
    static func keyed(_ path: String) -> [String: UInt64] {
        var values: [String: UInt64] = [:]
        for line in (read(path) ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = UInt64(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }

    /// The pids in a cgroup.
    static func pids(in directory: String) -> [Int32] {
        (read(directory + "/cgroup.procs") ?? "").split(separator: "\n").compactMap { Int32($0) }
    }
}
