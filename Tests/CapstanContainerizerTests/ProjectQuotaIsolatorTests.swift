import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc
import Testing

/// `disk/xfs` on real filesystems: a loop-mounted XFS (which takes project IDs even without quota support) for the
/// project attribute, the quota errors and recovery; a filesystem with project quotas on for enforcement, which this
/// project's CI kernel cannot mount (the test says why and skips).
@Suite("disk/xfs (ProjectQuotaIsolator)", Prerequisites.requires("disk/xfs on a loop-mounted XFS", .root("loop devices and mounts"), .binaries("mkfs.xfs", "losetup", "mount", "umount")))
struct ProjectQuotaIsolatorTests {
    /// An XFS image mounted without quota options, removed when `body` ends.
    static func withXFS<T>(_ body: (LoopFilesystem) async throws -> T) async throws -> T {
        try Prerequisites.require(.root(), .binaries("mkfs.xfs", "losetup"))
        let fs = try LoopFilesystem.make(type: "xfs")
        defer { fs.unmount() }
        return try await body(fs)
    }

    static func mkdir(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    static func config(_ id: String, sandbox: String, diskMB: UInt64? = nil) -> ContainerConfig {
        ContainerConfig(
            containerID: ContainerID(id), command: CommandSpec(shell: true, value: "true"), sandboxDirectory: sandbox,
            limits: ResourceLimits(diskBytes: diskMB.map { $0 << 20 }))
    }

    @Test("FS_IOC_FSSETXATTR tags a tree with a project (directories pass it on to what is created in them) and project 0 gives it back")
    func projectAttributeOnXFS() async throws {
        try await Self.withXFS { fs in
            let root = fs.mountPoint + "/sandbox"
            try Self.mkdir(root + "/sub/deeper")
            try Data("x".utf8).write(to: URL(fileURLWithPath: root + "/sub/file"))
            try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: "/etc/passwd")
            #expect(mkfifo(root + "/fifo", 0o600) == 0)
            #expect(try ProjectAttribute.get(root) == (0, false))

            let count = try ProjectAttribute.setTree(root, project: 5001)
            #expect(count == 4, "the root, sub, sub/deeper and sub/file; the symlink and the fifo are left alone")
            for directory in [root, root + "/sub", root + "/sub/deeper"] {
                #expect(try ProjectAttribute.get(directory) == (5001, true), "\(directory)")
            }
            #expect(try ProjectAttribute.get(root + "/sub/file") == (5001, false))
            #expect(try ProjectAttribute.get("/etc/passwd").project == 0, "the symlink's target is not followed")

            // The kernel passes the project on to what is created later.
            try Self.mkdir(root + "/sub/new-dir")
            try Data("y".utf8).write(to: URL(fileURLWithPath: root + "/sub/new-dir/new-file"))
            #expect(try ProjectAttribute.get(root + "/sub/new-dir") == (5001, true))
            #expect(try ProjectAttribute.get(root + "/sub/new-dir/new-file").project == 5001)

            try ProjectAttribute.setTree(root, project: 0)
            for path in [root, root + "/sub", root + "/sub/new-dir", root + "/sub/new-dir/new-file"] {
                #expect(try ProjectAttribute.get(path) == (0, false), "\(path)")
            }
        }
    }

    @Test("The writable layer disk/xfs tags is the overlay upper dir and its work dir: with only the upper dir tagged, overlayfs' copy-up fails with EXDEV; with both, writes to / land in the container's project")
    func writableLayerKeepsOverlayCopyUpWorking() async throws {
        try await Self.withXFS { fs in
            let launcher = LinuxLauncher(workDirectory: fs.mountPoint + "/agent", initPath: "/nonexistent", logger: quietLogger)
            var config = Self.config("overlay", sandbox: fs.mountPoint + "/sandbox")
            #expect(launcher.writableLayerDirectories(of: config).isEmpty, "no rootfs from layers, no writable layer")
            let lower = fs.mountPoint + "/lower"
            try Self.mkdir(lower + "/etc")
            try Data("image\n".utf8).write(to: URL(fileURLWithPath: lower + "/etc/config"))
            config.rootfs = .layers([lower])
            let layers = launcher.writableLayerDirectories(of: config)
            let state = launcher.stateDirectory(of: config.containerID)
            #expect(layers == [state + "/upper", state + "/work"])
            let merged = state + "/merged"
            for directory in layers + [merged] { try Self.mkdir(directory) }
            let mounted = HostCommand.status(
                "/usr/bin/mount", ["-t", "overlay", "overlay", "-o", "lowerdir=\(lower),upperdir=\(layers[0]),workdir=\(layers[1])", merged])
            try #require(mounted == 0, "overlayfs on XFS could not be mounted")
            defer { HostCommand.output("/usr/bin/umount", [merged]) }

            func append(_ path: String) -> Int32 {
                let fd = open(path, O_WRONLY | O_APPEND)
                guard fd >= 0 else { return errno }
                close(fd)
                return 0
            }
            try ProjectAttribute.setTree(layers[0], project: 5003)
            #expect(append(merged + "/etc/config") == EXDEV, "copy-up renames from the work dir into a directory of another project")
            for layer in layers { try ProjectAttribute.setTree(layer, project: 5003) }
            #expect(append(merged + "/etc/config") == 0)
            try Data("new\n".utf8).write(to: URL(fileURLWithPath: merged + "/written-to-root"))
            #expect(try ProjectAttribute.get(layers[0] + "/etc/config").project == 5003, "the copied-up file")
            #expect(try ProjectAttribute.get(layers[0] + "/etc") == (5003, true))
            #expect(try ProjectAttribute.get(layers[0] + "/written-to-root").project == 5003)
        }
    }

    @Test("On this host's own filesystem the attribute reads, and setting a project works or fails naming the path (ext4 without its project feature)")
    func projectAttributeOnHostFilesystem() async throws {
        try await Sandbox.with { sandbox in
            #expect(try ProjectAttribute.get(sandbox.path).project == 0)
            do {
                try ProjectAttribute.setTree(sandbox.path, project: 5001)
                #expect(try ProjectAttribute.get(sandbox.path) == (5001, true))
                try ProjectAttribute.setTree(sandbox.path, project: 0)
            } catch let error as CapstanError {
                #expect(error.code == .unsupported, "\(error)")
                #expect(error.message.hasPrefix("Failed to set project ID 5001 on '\(sandbox.path)' (under '\(sandbox.path)'): FS_IOC_FSSETXATTR: "), "\(error)")
                print("NOTE: this host's filesystem under /tmp takes no project IDs: \(error.message)")
            }
        }
    }

    @Test("Agent start on an XFS work dir without prjquota says exactly what is missing, and quotactl itself names the kernel's lack")
    func missingSupportIsNamed() async throws {
        try await Self.withXFS { fs in
            let workDir = fs.mountPoint + "/agent"
            try Self.mkdir(workDir)
            let kernel = ProjectQuotaSupport.Kernel.current()
            let error = #expect(throws: CapstanError.self) { try ProjectQuotaSupport.require(path: workDir) }
            let option = "\(fs.device) at \(fs.mountPoint) is mounted without project quotas: mount it with -o prjquota (XFS takes it only at mount time, not on remount)"
            let missing = (kernel.xfsQuota ? [] : ["this kernel's XFS has no quota support (CONFIG_XFS_QUOTA: no /proc/fs/xfs/xqmstat)"]) + [option]
            #expect(error?.code == .failedPrecondition)
            #expect(error?.message == "disk/xfs (--isolation) cannot run on the work dir '\(workDir)': " + missing.joined(separator: "; "))

            // Asked directly, the kernel answers for itself.
            let device = ProjectQuotaDevice(device: fs.device, filesystem: "xfs")
            let direct = #expect(throws: CapstanError.self) { try device.enforcing() }
            if kernel.xfsQuota {
                #expect(direct?.message == "project quota accounting is off on \(fs.device): mount it with -o prjquota")
            } else {
                #expect(
                    direct?.message == "the kernel lacks quota support for this filesystem (CONFIG_XFS_QUOTA): quotactl(Q_XGETQSTAT, PRJQUOTA) on \(fs.device) answered Function not implemented (errno 38)")
            }
            let limit = #expect(throws: CapstanError.self) { try device.setLimit(5000, bytes: 10 << 20) }
            #expect(limit?.message.hasPrefix("Failed to set the disk limit of project 5000 on \(fs.device) to 10485760 bytes: quotactl(Q_XSETQLIM): ") == true, "\(String(describing: limit))")
        }
    }

    @Test("An agent's work dir on this host's own filesystem without project quotas is refused with the missing mount option")
    func hostWorkDirIsRefused() async throws {
        try await Sandbox.with { sandbox in
            let support = try ProjectQuotaSupport.detect(path: sandbox.path)
            let error = #expect(throws: CapstanError.self) { try ProjectQuotaSupport.require(path: sandbox.path) }
            guard !support.isSupported else { return }  // a host whose /tmp has project quotas: nothing to refuse
            #expect(error?.message == "disk/xfs (--isolation) cannot run on the work dir '\(sandbox.path)': " + support.missing.joined(separator: "; "))
            if support.filesystem == "ext4" {
                #expect(error?.message.contains("is mounted without project quotas: enable the project feature") == true, "\(String(describing: error))")
                if ProjectQuotaSupport.Kernel.current(ext4: true).quotaFormatV2 == false {
                    #expect(error?.message.contains("this kernel lacks CONFIG_QFMT_V2") == true, "\(String(describing: error))")
                }
            }
        }
    }

    @Test("Recovery re-binds each checkpointed container to its ID and frees the IDs of containers gone; cleanup gives the sandbox back and the ID is reused")
    func recoveryRebindsAndFrees() async throws {
        try await Self.withXFS { fs in
            let workDir = fs.mountPoint + "/agent"
            let range = try ProjectIDRange(parsing: "[5000-5009]")
            let store = ProjectIDStore(workDir: workDir)
            // What an earlier agent left: three containers tagged and checkpointed.
            var earlier = ProjectIDAllocator(range: range)
            var sandboxes: [String: String] = [:]
            for name in ["alive", "exited", "vanished"] {
                let sandbox = workDir + "/sandboxes/\(name)"
                try Self.mkdir(sandbox + "/data")
                sandboxes[name] = sandbox
                try ProjectAttribute.setTree(sandbox, project: try earlier.allocate(for: ContainerID(name)))
            }
            try store.save(earlier)
            #expect(earlier.assignments == ["alive": 5000, "exited": 5001, "vanished": 5002])

            // The agent restarts: `alive` still runs, `exited` ended while it was down, `vanished` has no checkpoint.
            let device = ProjectQuotaDevice(device: fs.device, filesystem: "xfs")
            let isolator = try ProjectQuotaIsolator(device: device, range: range, store: store, logger: quietLogger)
            try await isolator.recover([
                ContainerRecoveryState(containerID: "alive", pid: getpid(), config: Self.config("alive", sandbox: sandboxes["alive"]!, diskMB: 10)),
                ContainerRecoveryState(containerID: "exited", pid: nil, config: Self.config("exited", sandbox: sandboxes["exited"]!, diskMB: 10)),
            ])
            #expect(try await isolator.project(of: "alive") == 5000, "the same ID for the same container")
            #expect(try await isolator.project(of: "exited") == 5001, "kept until its cleanup")
            #expect(try await isolator.project(of: "vanished") == nil)
            #expect(try store.load(range: range).assignments == ["alive": 5000, "exited": 5001], "the checkpoint no longer holds the vanished container")
            let stats = try #require(try await isolator.usage("alive"), "a recovered container is measured")
            #expect(stats.diskLimitBytes == 10 << 20)
            if !ProjectQuotaSupport.Kernel.current().xfsQuota {
                #expect(stats.diskUsedBytes == nil, "quotactl fails here: the usage is left out, the sample is not failed")
            }

            try await isolator.cleanup("exited")
            #expect(try ProjectAttribute.get(sandboxes["exited"]!) == (0, false), "the surviving sandbox went back to project 0")
            #expect(try ProjectAttribute.get(sandboxes["exited"]! + "/data") == (0, false))
            #expect(try ProjectAttribute.get(sandboxes["alive"]! + "/data") == (5000, true), "the running container keeps its project")
            #expect(try store.load(range: range).assignments == ["alive": 5000])
            #expect(try await isolator.freeProjectIDs() == 9)
            try await isolator.cleanup("exited")  // idempotent

            // A new container gets the lowest free ID. On a kernel without XFS quota its limit cannot be set, so the
            // launch fails there, naming quotactl; the containerizer's cleanup then frees the ID again.
            let fresh = workDir + "/sandboxes/fresh"
            try Self.mkdir(fresh)
            do {
                _ = try await isolator.prepare(Self.config("fresh", sandbox: fresh, diskMB: 10))
                #expect(ProjectQuotaSupport.Kernel.current().xfsQuota, "prepare can succeed only with quota support")
            } catch let error as CapstanError {
                #expect(error.message.contains("quotactl(Q_XSETQLIM)"), "\(error)")
            }
            #expect(try await isolator.project(of: "fresh") == 5001, "the freed ID is reused first")
            #expect(try store.load(range: range).assignments["fresh"] == 5001, "checkpointed before anything was tagged")
            try await isolator.cleanup("fresh")
            #expect(try await isolator.project(of: "fresh") == nil)
            #expect(try ProjectAttribute.get(fresh) == (0, false))

            // A second restart with a narrowed range frees what falls outside it.
            let narrowed = try ProjectIDRange(parsing: "[5001-5009]")
            let again = try ProjectQuotaIsolator(device: device, range: narrowed, store: store, logger: quietLogger)
            try await again.recover([
                ContainerRecoveryState(containerID: "alive", pid: getpid(), config: Self.config("alive", sandbox: sandboxes["alive"]!, diskMB: 10))
            ])
            #expect(try await again.project(of: "alive") == nil)
            #expect(try store.load(range: narrowed).assignments.isEmpty)
        }
    }

    /// Writes `megabytes` MiB into `path` in 1 MiB chunks and syncs; the errno of the first failure, or 0.
    static func fill(_ path: String, megabytes: Int) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 7, count: 1 << 20)
        for _ in 0..<megabytes where write(fd, chunk, chunk.count) < 0 { return errno }
        return fsync(fd) == 0 ? 0 : errno
    }

    @Test("Project quotas for real: disk 10 MB writing 20 MB gets EDQUOT or ENOSPC with usage reported; with enforcement the watch reports the disk limitation past 10 MB; cleanup clears the limit")
    func quotaIsEnforced() async throws {
        let fs: LoopFilesystem
        switch LoopFilesystem.withProjectQuotas() {
        case .success(let mounted): fs = mounted
        case .failure(let failure):
            // The kernel, not the machine's set-up, is missing something: skipped even under CAPSTAN_TEST_STRICT.
            print("SKIPPED: disk/xfs enforcement: \(failure)")
            return
        }
        defer { fs.unmount() }
        let workDir = fs.mountPoint + "/agent"
        try Self.mkdir(workDir)
        let (device, enforcing) = try ProjectQuotaSupport.require(path: workDir)
        #expect(enforcing)

        // The kernel's limit is the disk resource: writes past it fail, the container is not killed.
        let limiting = try ProjectQuotaIsolator(
            device: device, range: .default, store: ProjectIDStore(workDir: workDir), options: .init(interval: .milliseconds(100)),
            logger: quietLogger)
        let sandbox = workDir + "/sandboxes/hog"
        try Self.mkdir(sandbox + "/existing")
        _ = try await limiting.prepare(Self.config("hog", sandbox: sandbox, diskMB: 10))
        let project = try #require(try await limiting.project(of: "hog"))
        #expect(try ProjectAttribute.get(sandbox + "/existing") == (project, true), "what the sandbox held is tagged too")
        #expect(try device.usage(project).limitBytes == 10 << 20)
        let failure = Self.fill(sandbox + "/existing/fill", megabytes: 20)
        #expect(failure == EDQUOT || failure == ENOSPC, "writing 20 MB under a 10 MB quota failed with errno \(failure)")
        let stats = try #require(try await limiting.usage("hog"))
        #expect(stats.diskLimitBytes == 10 << 20)
        #expect((stats.diskUsedBytes ?? 0) >= 9 << 20 && (stats.diskUsedBytes ?? 0) <= 10 << 20, "\(stats)")
        try await limiting.cleanup("hog")
        #expect(try device.usage(project).limitBytes == nil)
        #expect(try ProjectAttribute.get(sandbox).project == 0)
        #expect(try await limiting.project(of: "hog") == nil)

        // With --enforce-container-disk-quota the kernel leaves 10 MB of headroom and the watch kills past the disk.
        let killing = try ProjectQuotaIsolator(
            device: device, range: .default, store: ProjectIDStore(workDir: workDir),
            options: .init(interval: .milliseconds(100), enforce: true), logger: quietLogger)
        let other = workDir + "/sandboxes/killed"
        try Self.mkdir(other)
        _ = try await killing.prepare(Self.config("killed", sandbox: other, diskMB: 10))
        let second = try #require(try await killing.project(of: "killed"))
        #expect(try device.usage(second).limitBytes == 20 << 20)
        #expect(Self.fill(other + "/fill", megabytes: 15) == 0, "within the headroom")
        let limitation = await killing.watch("killed")
        #expect(limitation?.resource == .disk)
        #expect(limitation?.reason == .disk, "\(String(describing: limitation))")
        #expect(limitation?.message.contains("exceeds quota (10.0 MiB, 10485760 bytes)") == true, "\(String(describing: limitation))")
        try await killing.cleanup("killed")
        #expect(try device.usage(second).limitBytes == nil)
    }
}
