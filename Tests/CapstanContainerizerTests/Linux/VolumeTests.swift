import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc
import Testing

@Suite("Host-path and sandbox-path volumes (privileged)", .serialized, LinuxPrerequisites.trait)
struct VolumeTests {
    /// A containerizer whose `volume/path` isolator allows `<base>/host` only.
    static func containerizer(_ fx: LinuxFixture) throws -> Containerizer {
        let volumes = VolumeIsolator(policy: try HostPathPolicy(allowedRoots: [fx.base + "/host"]))
        return Containerizer(launcher: fx.launcher(), isolators: [volumes], logger: quietLogger)
    }

    @Test("With an image: read-only is EROFS (a submount too), read-write lands on the host, a sandbox path is the task user's")
    func volumesInARootfsContainer() async throws {
        try await LinuxFixture.with { fx in
            let host = fx.base + "/host"
            for directory in ["ro/sub", "rw"] { try FileManager.default.createDirectory(atPath: host + "/" + directory, withIntermediateDirectories: true) }
            try "kept\n".write(toFile: host + "/ro/file", atomically: true, encoding: .utf8)
            // A mount below the read-only volume: a recursive read-only mount covers it as well.
            #expect(mount("tmpfs", host + "/ro/sub", "tmpfs", 0, "size=1m") == 0)
            defer { umount2(host + "/ro/sub", Int32(MNT_DETACH)) }
            var config = fx.config(
                """
                cat /ro/file; echo x 2>&1 > /ro/new || true; echo x 2>&1 > /ro/sub/new || true
                echo written > /rw/out && echo rw-ok
                id -u; echo mine > /mnt/mesos/sandbox/data/x && echo sandbox-ok
                """, user: "nobody")
            config.volumes = [
                ContainerVolume(source: .hostPath(host + "/ro"), containerPath: "/ro", readOnly: true),
                ContainerVolume(source: .hostPath(host + "/rw"), containerPath: "/rw", readOnly: false),
                ContainerVolume(source: .sandboxPath("cache"), containerPath: "data", readOnly: false),
            ]
            // The task runs as nobody: /rw must let it write.
            chmod(host + "/rw", 0o777)
            let containerizer = try Self.containerizer(fx)
            try await containerizer.launch(config)
            let id = config.containerID
            let termination = try await within { try await containerizer.wait(id) }
            #expect(termination.exitStatus == 0, "\(fx.read("stderr"))")
            let output = fx.read("stdout") + fx.read("stderr")
            #expect(output.contains("kept"))
            #expect(output.components(separatedBy: "Read-only file system").count - 1 == 2, "both writes refused: \(output)")
            #expect(output.contains("rw-ok") && output.contains("65534") && output.contains("sandbox-ok"), "\(output)")
            #expect(!FileManager.default.fileExists(atPath: host + "/ro/new") && !FileManager.default.fileExists(atPath: host + "/ro/sub/new"))
            #expect((try? String(contentsOfFile: host + "/rw/out", encoding: .utf8)) == "written\n")
            #expect(fx.read("cache/x") == "mine\n", "the sandbox path is the sandbox's cache directory")
        }
    }

    @Test("On the host's filesystem: a relative path is in the sandbox, an absolute one covers an existing path inside the container only")
    func volumesWithoutAnImage() async throws {
        try await LinuxFixture.with { fx in
            let host = fx.base + "/host", covered = fx.base + "/covered"
            for directory in [host + "/ro", covered] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            try "from-host\n".write(toFile: host + "/ro/file", atomically: true, encoding: .utf8)
            try "hidden\n".write(toFile: covered + "/file", atomically: true, encoding: .utf8)
            var config = fx.config("cat vol/file; cat \(covered)/file; echo x 2>&1 > vol/new || true", rootfs: nil)
            config.rootfs = nil
            config.volumes = [
                ContainerVolume(source: .hostPath(host + "/ro"), containerPath: "vol", readOnly: true),
                ContainerVolume(source: .hostPath(host + "/ro"), containerPath: covered, readOnly: true),
            ]
            config.command.environment["PATH"] = "/usr/bin:/bin"
            let containerizer = try Self.containerizer(fx)
            try await containerizer.launch(config)
            let id = config.containerID
            let termination = try await within { try await containerizer.wait(id) }
            #expect(termination.exitStatus == 0, "\(fx.read("stderr"))")
            let output = fx.read("stdout") + fx.read("stderr")
            #expect(output.hasPrefix("from-host\nfrom-host\n") && output.contains("Read-only file system"), "\(output)")
            #expect((try? String(contentsOfFile: covered + "/file", encoding: .utf8)) == "hidden\n", "the host's path is untouched")
        }
    }

    @Test("A path outside the allowed roots, with '..', or through a symlink that leads out fails the launch naming it; nothing runs")
    func refusedPaths() async throws {
        try await LinuxFixture.with { fx in
            let host = fx.base + "/host", outside = fx.base + "/outside"
            for directory in [host, outside] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            try FileManager.default.createSymbolicLink(atPath: host + "/escape", withDestinationPath: outside)
            let containerizer = try Self.containerizer(fx)
            for (path, expected) in [
                (outside, "is not under the agent's --allowed-host-paths"), (host + "/../outside", "contains '..'"),
                (host + "/escape", "leads through a symlink to '\(outside)'"),
            ] {
                var config = fx.config("touch ran")
                config.volumes = [ContainerVolume(source: .hostPath(path), containerPath: "/v", readOnly: false)]
                var message = "launched"
                do { try await containerizer.launch(config) } catch { message = "\(error)" }
                #expect(message.contains(expected), "\(path): \(message)")
            }
            #expect(!FileManager.default.fileExists(atPath: fx.sandbox + "/ran"))
        }
    }

    @Test("capstan-init mounts what the agent resolved: a symlink put on the path since fails the launch")
    func symlinkSwappedInAfterTheCheckIsRefused() async throws {
        try await LinuxFixture.with { fx in
            let outside = fx.base + "/outside", swapped = fx.base + "/swapped"
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: swapped, withDestinationPath: outside)
            let containerizer = Containerizer(launcher: fx.launcher(), isolators: [], logger: quietLogger)
            let config = fx.config("touch ran", mounts: [BindMountSpec(source: swapped, target: "/v", refusesSymlinks: true)])
            var message = "launched"
            do { try await containerizer.launch(config) } catch { message = "\(error)" }
            #expect(message.contains("a symlink is on its path now"), "\(message)")
            #expect(!FileManager.default.fileExists(atPath: fx.sandbox + "/ran"))
        }
    }
}
