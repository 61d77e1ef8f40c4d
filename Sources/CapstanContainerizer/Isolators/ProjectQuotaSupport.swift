import CapstanCore
import Foundation
import Glibc

/// Whether the filesystem of a directory (the agent's work dir) can hold per-container project quotas (`disk/xfs`:
/// XFS, or ext4 with its `project` feature), and, when it cannot, exactly what is missing.
///
/// Read from `/proc/self/mountinfo` (the mount holding the directory, found by device number, its type and super
/// options) and from what the kernel shows of its quota support: `/proc/fs/xfs/xqmstat` exists only with XFS quota
/// support (`CONFIG_XFS_QUOTA`), `/proc/sys/fs/quota` only with the generic quota code ext4 uses (`CONFIG_QUOTA`).
public struct ProjectQuotaSupport: Sendable, Hashable {
    /// The mount holding the directory.
    public var mountPoint: String
    public var filesystem: String
    public var device: String
    /// `nil` when project quotas can be used; otherwise every missing piece, one sentence each.
    public var missing: [String]

    public var isSupported: Bool { missing.isEmpty }

    /// One line for logs and GET_FLAGS: `supported (xfs on /dev/vdb at /var/lib/capstan, prjquota)` or what is missing.
    public var summary: String {
        if isSupported { return "supported (\(filesystem) \(device) mounted at \(mountPoint) with project quotas)" }
        return "unavailable: " + missing.joined(separator: "; ")
    }

    /// What the kernel offers, as files under /proc show it.
    public struct Kernel: Sendable, Hashable {
        /// XFS was built with quota support.
        public var xfsQuota: Bool
        /// The generic quota code (ext4's project quotas) is built in.
        public var genericQuota: Bool
        /// The quota file format ext4's `quota` feature needs (`CONFIG_QFMT_V2`): built in or a module; nil when unknown.
        public var quotaFormatV2: Bool?

        public init(xfsQuota: Bool, genericQuota: Bool, quotaFormatV2: Bool? = nil) {
            self.xfsQuota = xfsQuota
            self.genericQuota = genericQuota
            self.quotaFormatV2 = quotaFormatV2
        }

        /// This machine's kernel. `CONFIG_QFMT_V2` is looked for (when `ext4` asks) as its code in `/proc/kallsyms`
        /// or its module under /lib/modules.
        public static func current(proc: String = "/proc", ext4: Bool = false) -> Kernel {
            Kernel(
                xfsQuota: FileManager.default.fileExists(atPath: proc + "/fs/xfs/xqmstat"),
                genericQuota: FileManager.default.fileExists(atPath: proc + "/sys/fs/quota"),
                quotaFormatV2: ext4 ? quotaFormatV2(proc: proc) : nil)
        }

        /// Whether `CONFIG_QFMT_V2` is built in (its `v2_read_file_info` in kallsyms) or a module; nil when unknown.
        static func quotaFormatV2(proc: String) -> Bool? {
            var name = utsname()
            uname(&name)
            let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let modules = "/lib/modules/\(release)/kernel/fs/quota/"
            if let entries = try? FileManager.default.contentsOfDirectory(atPath: modules), entries.contains(where: { $0.hasPrefix("quota_v2.ko") }) {
                return true
            }
            guard let symbols = try? String(contentsOfFile: proc + "/kallsyms", encoding: .utf8), !symbols.isEmpty else { return nil }
            return symbols.contains(" v2_read_file_info")
        }
    }

    /// Detects support for `path` on this machine.
    /// - Throws: `notFound` when `path` cannot be stat'ed or no mount of its device is listed.
    public static func detect(path: String) throws -> ProjectQuotaSupport {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw CapstanError(.notFound, "Cannot check project quota support: stat '\(path)': errno \(errno)")
        }
        let mountinfo = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        let device = deviceNumber(UInt64(info.st_dev))
        guard let support = evaluate(mountinfo: mountinfo, device: device, path: path, kernel: .current()) else {
            throw CapstanError(.notFound, "Cannot check project quota support: no mount of device \(device) (holding '\(path)') in /proc/self/mountinfo")
        }
        // Only an ext4 without project quotas needs the slower look for CONFIG_QFMT_V2 (kallsyms).
        guard support.filesystem == "ext4", !support.isSupported else { return support }
        return evaluate(mountinfo: mountinfo, device: device, path: path, kernel: .current(ext4: true)) ?? support
    }

    /// The pure part of ``detect(path:)``: the mount of `device` (`MAJOR:MINOR`) whose mount point is the longest
    /// prefix of `path`, judged with `kernel`; `nil` when `mountinfo` lists none.
    public static func evaluate(mountinfo: String, device: String, path: String, kernel: Kernel) -> ProjectQuotaSupport? {
        var best: (point: String, type: String, source: String, options: Set<String>)?
        for line in mountinfo.split(separator: "\n") {
            // ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL…] - TYPE SOURCE SUPER-OPTIONS
            let fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 10, fields[2] == device, let dash = fields.firstIndex(of: "-"), dash + 3 < fields.count else { continue }
            let point = HostPaths.unescapeMountField(fields[4])
            guard path == point || path.hasPrefix(point == "/" ? "/" : point + "/") else { continue }
            if let best, best.point.count >= point.count { continue }
            let options = Set(fields[dash + 3].split(separator: ",").map { String($0.split(separator: "=").first ?? "") })
            best = (point, fields[dash + 1], HostPaths.unescapeMountField(fields[dash + 2]), options)
        }
        guard let best else { return nil }
        var missing: [String] = []
        switch best.type {
        case "xfs":
            if !kernel.xfsQuota {
                missing.append("this kernel's XFS has no quota support (CONFIG_XFS_QUOTA: no /proc/fs/xfs/xqmstat)")
            }
            if best.options.isDisjoint(with: ["prjquota", "pquota", "pqnoenforce"]) {
                missing.append(
                    "\(best.source) at \(best.point) is mounted without project quotas: mount it with -o prjquota (XFS takes it only at mount time, not on remount)")
            }
        case "ext4":
            if !kernel.genericQuota {
                missing.append("this kernel has no quota support (CONFIG_QUOTA: no /proc/sys/fs/quota)")
            }
            if kernel.quotaFormatV2 == false {
                missing.append(
                    "this kernel lacks CONFIG_QFMT_V2, the quota format ext4's quota and project features need: such an ext4 cannot even be mounted read-write here")
            }
            if !best.options.contains("prjquota") {
                missing.append(
                    "\(best.source) at \(best.point) is mounted without project quotas: enable the project feature (tune2fs -O project,quota \(best.source), unmounted) and mount it with -o prjquota")
            }
        default:
            missing.append("\(best.point) is \(best.type), which has no project quotas here: put the work dir on XFS (-o prjquota) or ext4 (-O project, -o prjquota)")
        }
        return ProjectQuotaSupport(mountPoint: best.point, filesystem: best.type, device: best.source, missing: missing)
    }

    /// `MAJOR:MINOR` of a `dev_t`, as mountinfo writes it (glibc's `major`/`minor` are macros).
    static func deviceNumber(_ dev: UInt64) -> String {
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~UInt64(0xfff))
        let minor = (dev & 0xff) | ((dev >> 12) & ~UInt64(0xff))
        return "\(major):\(minor)"
    }
}

extension ProjectQuotaSupport {
    /// What `disk/xfs` needs at agent start: project quotas on `path`'s filesystem, read from mountinfo and /proc
    /// (``detect(path:)``), then asked of the kernel itself with `quotactl` on the filesystem's device (a kernel
    /// can lack the support /proc suggests, answering ENOSYS or EINVAL). Returns the device to set limits on and
    /// whether the kernel enforces them (XFS mounted `pqnoenforce` only accounts).
    /// - Throws: `failedPrecondition` — `disk/xfs cannot run on the work dir '…': …` followed by every missing piece.
    public static func require(path: String) throws -> (device: ProjectQuotaDevice, enforcing: Bool) {
        let prefix = "disk/xfs (--isolation) cannot run on the work dir '\(path)'"
        let support: ProjectQuotaSupport
        do { support = try detect(path: path) } catch {
            throw CapstanError(.failedPrecondition, "\(prefix): \((error as? CapstanError)?.message ?? "\(error)")")
        }
        guard support.isSupported else {
            throw CapstanError(.failedPrecondition, "\(prefix): " + support.missing.joined(separator: "; "))
        }
        let device = ProjectQuotaDevice(device: support.device, filesystem: support.filesystem)
        do {
            return (device, try device.enforcing())
        } catch {
            throw CapstanError(.failedPrecondition, "\(prefix): \((error as? CapstanError)?.message ?? "\(error)")")
        }
    }
}
