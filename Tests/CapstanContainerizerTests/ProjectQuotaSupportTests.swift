import CapstanContainerizer
import Foundation
import Testing

@Suite("ProjectQuotaSupport")
struct ProjectQuotaSupportTests {
    static let kernelWithQuotas = ProjectQuotaSupport.Kernel(xfsQuota: true, genericQuota: true)

    static func line(_ device: String, _ point: String, _ type: String, _ source: String, _ options: String) -> String {
        "36 25 \(device) / \(point) rw,relatime shared:1 - \(type) \(source) \(options)"
    }

    @Test("XFS mounted with prjquota (or pquota) on a kernel with XFS quotas is supported")
    func xfsWithPrjquotaIsSupported() throws {
        for option in ["prjquota", "pquota", "pqnoenforce"] {
            let mountinfo = Self.line("8:16", "/var/lib/capstan", "xfs", "/dev/sdb", "rw,attr2,inode64,\(option)")
            let support = try #require(
                ProjectQuotaSupport.evaluate(mountinfo: mountinfo, device: "8:16", path: "/var/lib/capstan/agent", kernel: Self.kernelWithQuotas))
            #expect(support.isSupported, "\(support)")
            #expect(support.summary.hasPrefix("supported (xfs /dev/sdb mounted at /var/lib/capstan"), "\(support.summary)")
        }
    }

    @Test("Each missing piece is named: the XFS mount option, XFS quota in the kernel, ext4's project feature, another filesystem")
    func missingPiecesAreNamed() throws {
        let xfs = Self.line("8:16", "/data", "xfs", "/dev/sdb", "rw,attr2,inode64,noquota")
        let both = try #require(
            ProjectQuotaSupport.evaluate(
                mountinfo: xfs, device: "8:16", path: "/data/agent", kernel: .init(xfsQuota: false, genericQuota: true)))
        #expect(both.missing.count == 2, "\(both)")
        #expect(both.missing[0].contains("CONFIG_XFS_QUOTA"))
        #expect(both.missing[1].contains("/dev/sdb at /data is mounted without project quotas: mount it with -o prjquota"))
        #expect(both.summary.hasPrefix("unavailable: "))

        let ext4 = Self.line("254:0", "/", "ext4", "/dev/vda", "rw,discard")
        let plain = try #require(ProjectQuotaSupport.evaluate(mountinfo: ext4, device: "254:0", path: "/srv/agent", kernel: Self.kernelWithQuotas))
        #expect(plain.missing == [
            "/dev/vda at / is mounted without project quotas: enable the project feature (tune2fs -O project,quota /dev/vda, unmounted) and mount it with -o prjquota"
        ])
        let noQuotaKernel = try #require(
            ProjectQuotaSupport.evaluate(
                mountinfo: Self.line("254:0", "/", "ext4", "/dev/vda", "rw,prjquota"), device: "254:0", path: "/srv",
                kernel: .init(xfsQuota: false, genericQuota: false)))
        #expect(noQuotaKernel.missing == ["this kernel has no quota support (CONFIG_QUOTA: no /proc/sys/fs/quota)"])

        let tmpfs = Self.line("0:45", "/run/agent", "tmpfs", "tmpfs", "rw,size=1024k")
        let other = try #require(ProjectQuotaSupport.evaluate(mountinfo: tmpfs, device: "0:45", path: "/run/agent", kernel: Self.kernelWithQuotas))
        #expect(other.missing.first?.contains("/run/agent is tmpfs, which has no project quotas here") == true, "\(other)")
    }

    @Test("The mount holding the path is the deepest one of its device; escaped mount points are read back")
    func picksTheDeepestMountOfTheDevice() throws {
        let mountinfo = [
            Self.line("8:16", "/", "xfs", "/dev/sdb", "rw,noquota"),
            Self.line("8:16", "/srv/with\\040space", "xfs", "/dev/sdb", "rw,prjquota"),
            Self.line("8:17", "/srv/with\\040space/agent", "xfs", "/dev/sdc", "rw,noquota"),
        ].joined(separator: "\n")
        let support = try #require(
            ProjectQuotaSupport.evaluate(
                mountinfo: mountinfo, device: "8:16", path: "/srv/with space/work", kernel: Self.kernelWithQuotas))
        #expect(support.mountPoint == "/srv/with space" && support.isSupported, "\(support)")
        #expect(ProjectQuotaSupport.evaluate(mountinfo: mountinfo, device: "9:9", path: "/srv", kernel: Self.kernelWithQuotas) == nil)
    }

    @Test("On this machine the work dir's filesystem is detected, and what disk/xfs lacks here is said")
    func detectsThisMachine() throws {
        let support = try ProjectQuotaSupport.detect(path: NSTemporaryDirectory())
        #expect(!support.filesystem.isEmpty && support.mountPoint.hasPrefix("/"))
        if !support.isSupported {
            // These machines' kernels have no XFS quota support: quota-setting tests (none yet) cannot run here, for this reason.
            print("NOTE: disk/xfs project quotas cannot be enforced on this machine: \(support.summary)")
            #expect(!support.missing.isEmpty)
        }
    }

    @Test("An ext4 on a kernel without CONFIG_QFMT_V2 is told so: its quota and project features cannot even be mounted read-write")
    func ext4WithoutQuotaFormatIsNamed() throws {
        let ext4 = Self.line("254:0", "/", "ext4", "/dev/vda", "rw,discard")
        let kernel = ProjectQuotaSupport.Kernel(xfsQuota: false, genericQuota: true, quotaFormatV2: false)
        let support = try #require(ProjectQuotaSupport.evaluate(mountinfo: ext4, device: "254:0", path: "/srv/agent", kernel: kernel))
        #expect(support.missing.first == "this kernel lacks CONFIG_QFMT_V2, the quota format ext4's quota and project features need: such an ext4 cannot even be mounted read-write here")
        #expect(support.missing.count == 2, "and the mount option: \(support.missing)")
        let unknown = try #require(ProjectQuotaSupport.evaluate(mountinfo: ext4, device: "254:0", path: "/srv/agent", kernel: Self.kernelWithQuotas))
        #expect(unknown.missing.count == 1, "nothing is said of a format not looked for")
    }
}
