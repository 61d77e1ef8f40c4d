import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc
import Logging
import Testing

/// A private cgroup2 mount in a temp directory: the kernel has one v2 hierarchy, which this machine (cgroup v1 at
/// /sys/fs/cgroup) also shows at /sys/fs/cgroup/unified; the kernel runs the device program of a process's v2 cgroup
/// in addition to the v1 devices controller.
struct Cgroup2Mount {
    let root: String
    /// Container IDs start with it, so that cleanup removes exactly the test's cgroups.
    let prefix = "devv2-\(UUID().uuidString.prefix(8).lowercased())-"
    private let madeParent: Bool

    private init(root: String, madeParent: Bool) {
        self.root = root
        self.madeParent = madeParent
    }

    /// A fresh container ID under ``prefix``.
    func id(_ name: String) -> ContainerID { ContainerID(prefix + name) }

    /// Mounts cgroup2 in a temp directory, runs `body`, and then (pass or fail) kills what is left in the test's
    /// cgroups, removes them, unmounts and removes the directory. Nil with the reason when cgroup2 cannot be mounted.
    static func with(_ body: (Cgroup2Mount) async throws -> Void) async throws -> String? {
        var template = Array("/tmp/capstan-cgroup2-XXXXXX".utf8CString)
        let made: UnsafeMutablePointer<CChar>? = template.withUnsafeMutableBufferPointer { buffer in mkdtemp(buffer.baseAddress!) }
        guard made != nil else { return "mkdtemp: errno \(errno)" }
        let root = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard mount("none", root, "cgroup2", 0, nil) == 0 else {
            let err = errno
            rmdir(root)
            return "mount -t cgroup2 on \(root) failed: \(String(cString: strerror(err))) (errno \(err))"
        }
        let mounted = Cgroup2Mount(root: root, madeParent: access(root + "/capstan", F_OK) != 0)
        do {
            try await body(mounted)
        } catch {
            await mounted.remove()
            throw error
        }
        await mounted.remove()
        return nil
    }

    /// Removes the test's cgroups (killing their processes), `capstan/` when the test made it and it is empty, the
    /// mount and its directory.
    private func remove() async {
        let parent = root + "/capstan"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where name.hasPrefix(prefix) {
            let path = parent + "/" + name
            for _ in 0..<100 where rmdir(path) != 0 && errno == EBUSY {
                let pids = ((try? String(contentsOfFile: path + "/cgroup.procs", encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) }
                for pid in pids { kill(pid, SIGKILL) }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        if madeParent { rmdir(parent) }
        umount2(root, Int32(MNT_DETACH))
        rmdir(root)
    }
}

@Suite("DevicesCgroupV2", .serialized)
struct DevicesCgroupV2Tests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Opens each device for reading and for writing with dd (no data moves) and prints `r /dev/null ok`,
    /// `w /dev/kmsg denied` (EPERM) or the error.
    static let probe = """
        for spec in "r /dev/null" "w /dev/null" "r /dev/kmsg" "w /dev/kmsg"; do
          set -- $spec
          if [ "$1" = r ]; then out=$(dd if="$2" of=/dev/null count=0 2>&1); else out=$(dd if=/dev/null of="$2" count=0 conv=notrunc 2>&1); fi
          case "$out" in *"not permitted"*) echo "$1 $2 denied";; *"failed"*|*"dd:"*) echo "$1 $2 error: $out";; *) echo "$1 $2 ok";; esac
        done
        """

    /// Creates the container's cgroup and program; nil with the reason when the kernel refuses to load or attach it.
    static func create(_ controller: DevicesCgroupV2, _ id: ContainerID, _ policy: DevicePolicy) throws -> String? {
        do {
            try controller.create(id, policy: policy)
            return nil
        } catch let error as CapstanError where error.message.contains("BPF_PROG_") && [.permissionDenied, .invalidArgument, .unsupported].contains(error.code) {
            return "the kernel refuses cgroup device programs here: \(error.message)"
        }
    }

    @Test("create attaches exactly one device program, a second create replaces it, destroy removes the cgroup; system() picks v2 on a cgroup2 mount")
    func attachesOneProgramReplacesItAndDestroys() async throws {
        guard Prerequisites.met("cgroup v2 device programs", .root("mounting cgroup2 and loading BPF programs need uid 0")) else { return }
        let unmounted = try await Cgroup2Mount.with { mount in
            let controller = DevicesCgroupV2(root: mount.root)
            let id = mount.id("replace")
            if let refused = try Self.create(controller, id, .containerDefaults) {
                _ = Prerequisites.met("cgroup v2 device programs", missing: refused)
                return
            }
            #expect(try controller.attachedPrograms(id) == 1)
            var more = DevicePolicy.containerDefaults
            more.allow(DeviceRule(.char, 1, 11, .read))
            try controller.create(id, policy: more)
            #expect(try controller.attachedPrograms(id) == 1, "the second program replaced the first")
            try await controller.destroy(id)
            #expect(access(controller.path(of: id), F_OK) != 0)
            try await controller.destroy(id)  // a missing cgroup is fine

            let chosen = try DeviceControllers.system(base: mount.root)
            #expect(chosen is DevicesCgroupV2 && chosen.description == "cgroup v2 device programs at \(mount.root)")
        }
        if let unmounted { _ = Prerequisites.met("cgroup v2 device programs", missing: unmounted) }
    }

    @Test("a process in the container's cgroup opens the default devices, gets EPERM for a node the policy lacks, and only the access a node's rule grants")
    func enforcesThePolicyOnARealProcess() async throws {
        guard Prerequisites.met("cgroup v2 device programs", .root("mounting cgroup2 and loading BPF programs need uid 0")) else { return }
        // Outside any test cgroup, root may open /dev/kmsg both ways: the denials below are the program's.
        let outside = open("/dev/kmsg", O_WRONLY | O_CLOEXEC)
        guard Prerequisites.met("cgroup v2 device programs", missing: outside >= 0 ? nil : "/dev/kmsg cannot be opened for writing here (errno \(errno))") else {
            return
        }
        close(outside)
        let unmounted = try await Cgroup2Mount.with { mount in
            let controller = DevicesCgroupV2(root: mount.root)
            if let refused = try Self.create(controller, mount.id("probe"), .containerDefaults) {
                _ = Prerequisites.met("cgroup v2 device programs", missing: refused)
                return
            }
            try await controller.destroy(mount.id("probe"))
            let containerizer = makeContainerizer(isolators: [DevicesIsolator(controller: controller, logger: Self.logger)])
            try await Sandbox.with { sandbox in
                var plain = sandbox.config(Self.probe)
                plain.containerID = mount.id("plain")
                var kmsg = sandbox.config(Self.probe)
                kmsg.containerID = mount.id("kmsg")
                kmsg.deviceNodes = [DeviceNodeSpec(path: "/dev/kmsg", major: 1, minor: 11, access: .read)]
                var outputs: [String] = []
                for config in [plain, kmsg] {
                    try await containerizer.launch(config)
                    let termination = try await within { try await containerizer.wait(config.containerID) }
                    #expect(termination.exitStatus == 0)
                    outputs.append(sandbox.read("stdout"))
                    try FileManager.default.removeItem(atPath: sandbox.path + "/stdout")
                    #expect(access(controller.path(of: config.containerID), F_OK) != 0, "cleanup removed the cgroup")
                }
                #expect(outputs[0] == "r /dev/null ok\nw /dev/null ok\nr /dev/kmsg denied\nw /dev/kmsg denied\n")
                #expect(outputs[1] == "r /dev/null ok\nw /dev/null ok\nr /dev/kmsg ok\nw /dev/kmsg denied\n")
            }
        }
        if let unmounted { _ = Prerequisites.met("cgroup v2 device programs", missing: unmounted) }
    }

    @Test("system() names the base when it has no v1 devices hierarchy and is not a cgroup2 mount")
    func systemRefusesAPlainDirectory() throws {
        let base = NSTemporaryDirectory() + "capstan-not-cgroup-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        #expect(!DevicesCgroupV2.isCgroup2(base))
        let error = #expect(throws: CapstanError.self) { try DeviceControllers.system(base: base) }
        #expect(error?.code == .unsupported)
        #expect(error?.message.contains("'\(base)' has no cgroup v1 devices hierarchy and is not a cgroup2 mount") == true)
    }
}
