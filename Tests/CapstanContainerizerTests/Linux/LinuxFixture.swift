import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc
import Testing

/// What privileged Linux container tests need: root, Debian's busybox-static and capstan-init.
enum LinuxPrerequisites {
    static var all: [Prerequisite] {
        [.root(), .busybox, .executable(LinuxLauncher.defaultInitPath(), "swift build builds capstan-init")]
    }

    /// Enabled when everything is there, and always under CAPSTAN_TEST_STRICT=1 (where `require()` then fails).
    static var trait: ConditionTrait { Prerequisites.requires("privileged Linux container tests", all) }

    /// Fails the test under CAPSTAN_TEST_STRICT=1 when something is missing.
    static func require() throws { try Prerequisites.require(all) }
}

/// A scratch dir with a busybox layer, a sandbox and a containerizer work dir; removed (and checked for leaks) at the end.
struct LinuxFixture {
    let base: String
    var layer: String { base + "/layer" }
    var sandbox: String { base + "/sandbox" }
    var work: String { base + "/work" }
    let testID: String

    static let applets = [
        "sh", "echo", "cat", "ls", "sleep", "hostname", "dd", "true", "false", "mkdir", "touch", "env", "id", "ps", "head",
        "tail", "test", "[", "yes", "seq", "wc", "grep", "readlink", "mount", "tr", "rm", "stat", "cut", "find", "sort",
    ]

    static func with<T>(_ body: (LinuxFixture) async throws -> T) async throws -> T {
        try LinuxPrerequisites.require()
        let id = String(UUID().uuidString.prefix(8)).lowercased()
        let fixture = LinuxFixture(base: "/tmp/capstan-linux-test-\(id)", testID: id)
        let fm = FileManager.default
        for dir in [fixture.layer + "/bin", fixture.layer + "/etc", fixture.sandbox, fixture.work] {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        try fm.copyItem(atPath: "/bin/busybox", toPath: fixture.layer + "/bin/busybox")
        for applet in applets { try fm.createSymbolicLink(atPath: fixture.layer + "/bin/" + applet, withDestinationPath: "busybox") }
        try "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n".write(
            toFile: fixture.layer + "/etc/passwd", atomically: true, encoding: .utf8)
        try "root:x:0:\nnogroup:x:65534:\n".write(toFile: fixture.layer + "/etc/group", atomically: true, encoding: .utf8)
        defer { Self.remove(fixture.base) }
        let result = try await body(fixture)
        #expect(fixture.leakedMounts().isEmpty, "mounts left behind: \(fixture.leakedMounts())")
        return result
    }

    /// Removes the scratch dir. The launcher removes ended containers' state on a background thread, which can make
    /// one pass fail halfway on a file it already removed: try again a few times.
    static func remove(_ base: String) {
        for _ in 0..<20 where FileManager.default.fileExists(atPath: base) {
            if (try? FileManager.default.removeItem(atPath: base)) != nil { return }
            usleep(50_000)
        }
    }

    /// Mounts in the test's own namespace that mention the scratch dir.
    func leakedMounts() -> [String] {
        ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "").split(separator: "\n")
            .filter { $0.contains(base) }.map(String.init)
    }

    func launcher(_ provisioner: OverlayProvisioner = OverlayProvisioner()) -> LinuxLauncher {
        LinuxLauncher(workDirectory: work, provisioner: provisioner, logger: quietLogger)
    }

    func config(
        _ shell: String, rootfs: RootfsSpec? = nil, limits: ResourceLimits = ResourceLimits(), hostname: String? = nil,
        mounts: [BindMountSpec] = [], user: String? = nil
    ) -> ContainerConfig {
        ContainerConfig(
            containerID: ContainerID("lx-\(testID)-\(UUID().uuidString.prefix(4).lowercased())"),
            command: CommandSpec(shell: true, value: shell, environment: ["PATH": "/bin"], user: user),
            sandboxDirectory: sandbox, limits: limits, rootfs: rootfs ?? .layers([layer]), hostname: hostname, mounts: mounts)
    }

    func read(_ name: String) -> String {
        (try? String(contentsOfFile: sandbox + "/" + name, encoding: .utf8)) ?? ""
    }

    func waitFor(_ name: String, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !FileManager.default.fileExists(atPath: sandbox + "/" + name) {
            guard ContinuousClock.now < deadline else { throw TestFailure("the task never created \(name)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The cgroup directories of a container in every hierarchy that exist.
    static func cgroups(of id: ContainerID) -> [String] {
        ["cpu", "cpuacct", "memory", "pids"].map { "/sys/fs/cgroup/\($0)/capstan/\(id)" }
            .filter { FileManager.default.fileExists(atPath: $0) }
    }
}
