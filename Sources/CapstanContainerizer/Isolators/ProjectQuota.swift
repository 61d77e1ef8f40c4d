public import CapstanCore
import CapstanLinux
import CLinux
import Glibc

/// The project ID files carry (`FS_IOC_FSGETXATTR` / `FS_IOC_FSSETXATTR`, `fsx_projid`): what `disk/xfs` sets on a
/// container's sandbox and writable rootfs layer, with `FS_XFLAG_PROJINHERIT` on directories so that whatever the
/// container creates in them is charged to its project too. Blocking: call through ``Blocking/run(_:)``.
public enum ProjectAttribute {
    /// The project ID of `path` and whether it passes it on to what is created in it.
    /// - Throws: ``CapstanError`` naming the path and the failed call (`EOPNOTSUPP`/`ENOTTY` on a filesystem without
    ///   project IDs).
    public static func get(_ path: String) throws -> (project: UInt32, inherit: Bool) {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw CapstanError.system("Failed to read the project ID of '\(path)': open", errno: errno) }
        defer { close(fd) }
        var project: UInt32 = 0
        var inherit: Int32 = 0
        let error = capstan_project_get(fd, &project, &inherit)
        guard error == 0 else { throw CapstanError.system("Failed to read the project ID of '\(path)': FS_IOC_FSGETXATTR", errno: error) }
        return (project, inherit != 0)
    }

    /// Sets `project` on `root` and on every file and directory under it on the same filesystem (directories with
    /// `FS_XFLAG_PROJINHERIT`); project 0 takes the inherit flag off, which gives the tree back. Returns how many
    /// entries were set.
    /// - Throws: ``CapstanError`` naming the entry that failed and the errno.
    @discardableResult
    public static func setTree(_ root: String, project: UInt32) throws -> UInt64 {
        var count: UInt64 = 0
        var failed = [CChar](repeating: 0, count: 4096)
        let error = capstan_project_set_tree(root, project, project == 0 ? 0 : 1, &count, &failed, failed.count)
        guard error == 0 else {
            let path = String(decoding: failed.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw CapstanError.system(
                "Failed to set project ID \(project) on '\(path.isEmpty ? root : path)' (under '\(root)'): FS_IOC_FSSETXATTR", errno: error)
        }
        return count
    }
}

/// Project quotas of one filesystem, through `quotactl` on its block device: XFS's own commands (`Q_XGETQSTAT`,
/// `Q_XSETQLIM`, `Q_XGETQUOTA`, limits in 512-byte blocks) or the generic ones ext4 takes (`Q_GETINFO`,
/// `Q_SETQUOTA`, `Q_GETQUOTA`, limits in KiB). Blocking: call through ``Blocking/run(_:)``.
public struct ProjectQuotaDevice: Sendable, Hashable, CustomStringConvertible {
    /// Which `quotactl` commands the filesystem takes.
    public enum Interface: String, Sendable, Hashable {
        case xfs
        case generic
    }

    /// The block device (mountinfo's source).
    public var device: String
    public var interface: Interface

    public init(device: String, interface: Interface) {
        self.device = device
        self.interface = interface
    }

    /// The device of a filesystem of type `filesystem` (`xfs` takes XFS's commands, any other the generic ones).
    public init(device: String, filesystem: String) {
        self.init(device: device, interface: filesystem == "xfs" ? .xfs : .generic)
    }

    public var description: String { "\(device) (\(interface == .xfs ? "XFS quotactl" : "generic quotactl"))" }

    /// What one project holds and may hold.
    public struct Usage: Sendable, Hashable {
        public var usedBytes: UInt64
        /// The hard limit; nil when none is set.
        public var limitBytes: UInt64?
    }

    /// Whether project quotas are on: returns whether limits are enforced (XFS mounted `pqnoenforce` only accounts).
    /// - Throws: ``CapstanError`` with the errno quotactl answered and what it means: ``missingSupport(errno:)``.
    public func enforcing() throws -> Bool {
        var accounting: Int32 = 0
        var enforced: Int32 = 0
        let error = capstan_project_quota_state(device, interface == .xfs ? 1 : 0, &accounting, &enforced)
        guard error == 0 else { throw CapstanError(.unsupported, missingSupport(errno: error)) }
        guard accounting != 0 else {
            throw CapstanError(.unsupported, "project quota accounting is off on \(device): mount it with -o prjquota")
        }
        return enforced != 0
    }

    /// What a failed quotactl on this device says is missing, as one sentence.
    public func missingSupport(errno code: Int32) -> String {
        let answered = "quotactl(\(interface == .xfs ? "Q_XGETQSTAT" : "Q_GETINFO"), PRJQUOTA) on \(device) answered \(errnoText(code)) (errno \(code))"
        switch code {
        case ENOSYS, EINVAL, ENOTTY, EOPNOTSUPP:
            let config = interface == .xfs ? "CONFIG_XFS_QUOTA" : "CONFIG_QUOTA and CONFIG_QFMT_V2"
            return "the kernel lacks quota support for this filesystem (\(config)): \(answered)"
        case ESRCH:
            return "project quotas are not turned on for \(device): mount it with -o prjquota (\(answered))"
        case ENOENT, ENOTBLK, ENODEV, ENXIO:
            return "the filesystem's device cannot be reached for quotactl: \(answered)"
        case EPERM, EACCES:
            return "quotactl needs root (CAP_SYS_ADMIN): \(answered)"
        default:
            return answered
        }
    }

    /// Sets project `id`'s hard limit to `bytes` (rounded up to the filesystem's quota block); 0 clears it.
    public func setLimit(_ id: UInt32, bytes: UInt64) throws {
        let error = capstan_project_quota_set(device, interface == .xfs ? 1 : 0, id, bytes)
        guard error == 0 else {
            throw CapstanError.system(
                "Failed to set the disk limit of project \(id) on \(device) to \(bytes) bytes: quotactl(\(interface == .xfs ? "Q_XSETQLIM" : "Q_SETQUOTA"))",
                errno: error)
        }
    }

    /// What project `id` holds and its hard limit.
    public func usage(_ id: UInt32) throws -> Usage {
        var used: UInt64 = 0
        var limit: UInt64 = 0
        let error = capstan_project_quota_get(device, interface == .xfs ? 1 : 0, id, &used, &limit)
        guard error == 0 else {
            throw CapstanError.system(
                "Failed to read the disk usage of project \(id) on \(device): quotactl(\(interface == .xfs ? "Q_XGETQUOTA" : "Q_GETQUOTA"))",
                errno: error)
        }
        return Usage(usedBytes: used, limitBytes: limit == 0 ? nil : limit)
    }
}
