import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc
import Testing

/// Docker volumes in real containers: the `volume/path` isolator claims them from a plugin written for the tests and
/// binds the plugin's mountpoint into each container.
@Suite("Docker volumes in containers (privileged)", .serialized, LinuxPrerequisites.trait, TestVolumePlugin.requirement)
struct DockerVolumeContainerTests {
    static func isolator(_ scratch: PluginScratch) -> VolumeIsolator {
        VolumeIsolator(policy: .none, docker: DockerVolumeMountsTests.mounts(scratch))
    }

    static func config(_ fx: LinuxFixture, _ shell: String, volume name: String, readOnly: Bool = false, sandbox: String) throws -> ContainerConfig {
        try FileManager.default.createDirectory(atPath: sandbox, withIntermediateDirectories: true)
        var config = fx.config(shell)
        config.containerID = ContainerID(UUID().uuidString.lowercased())
        config.sandboxDirectory = sandbox
        config.volumes = [ContainerVolume(source: .dockerVolume(driver: "vol", name: name, options: ["size": "1g"]), containerPath: "/shared", readOnly: readOnly)]
        return config
    }

    @Test("Two containers share one plugin mount (Activate, Get, Create, Mount once; Unmount after the last); read-only is EROFS; a restart with one of them dead leaves exactly one claim; a plugin Err fails the launch with its text")
    func sharedVolume() async throws {
        try await LinuxFixture.with { fx in
            try await PluginScratch.with { scratch in
                let plugin = try TestVolumePlugin(address: scratch.sockets + "/vol.sock", state: scratch.state("vol"), journal: scratch.journal)
                defer { plugin.stop() }
                let isolator = Self.isolator(scratch)
                let containerizer = Containerizer(launcher: fx.launcher(), isolators: [isolator], logger: quietLogger)
                let writer = try Self.config(fx, "echo from-writer > /shared/file; sleep 600", volume: "shared", sandbox: fx.base + "/a")
                let reader = try Self.config(
                    fx, "cat /shared/file; echo x > /shared/other 2>&1; sleep 600", volume: "shared", readOnly: true, sandbox: fx.base + "/b")
                try await containerizer.launch(writer)
                try await eventually("the writer wrote into the volume") {
                    plugin.calls().contains { $0.call == "VolumeDriver.Mount" } && FileManager.default.fileExists(atPath: fx.base + "/a/stdout")
                }
                try await containerizer.launch(reader)
                try await eventually("the reader ran", timeout: .seconds(10)) {
                    ((try? String(contentsOfFile: fx.base + "/b/stdout", encoding: .utf8)) ?? "").contains("from-writer")
                }
                let readerOutput = ((try? String(contentsOfFile: fx.base + "/b/stdout", encoding: .utf8)) ?? "") + ((try? String(contentsOfFile: fx.base + "/b/stderr", encoding: .utf8)) ?? "")
                #expect(readerOutput.contains("Read-only file system"), "\(readerOutput)")
                #expect(plugin.callNames() == ["Plugin.Activate", "VolumeDriver.Get", "VolumeDriver.Create", "VolumeDriver.Mount"], "\(plugin.callNames())")
                #expect(plugin.calls().first { $0.call == "VolumeDriver.Create" }?.body["Opts"]?.contains("size") == true)

                // The agent restarts while the reader has ended: a new isolator on the same journal releases the
                // reader's claim once and keeps the writer's; the volume stays mounted.
                _ = await containerizer.destroy(reader.containerID, gracePeriod: .zero)
                #expect(plugin.count("VolumeDriver.Unmount") == 0, "the writer still uses the volume")
                let restarted = Self.isolator(scratch)
                try await restarted.recover([ContainerRecoveryState(containerID: writer.containerID, pid: 1, config: writer)])
                await restarted.dockerRecoveryFinished()
                let records = try FileManager.default.contentsOfDirectory(atPath: scratch.journal)
                #expect(records.count == 1, "one mount: \(records)")
                let record = try String(contentsOfFile: scratch.journal + "/" + records[0], encoding: .utf8)
                #expect(record.contains(writer.containerID.value) && !record.contains(reader.containerID.value), "exactly the writer's claim: \(record)")
                #expect(plugin.count("VolumeDriver.Unmount") == 0)

                // (The first isolator, whose containerizer runs the writer, releases its claim as the agent would.)
                _ = await containerizer.destroy(writer.containerID, gracePeriod: .zero)
                #expect(plugin.count("VolumeDriver.Mount") == 1 && plugin.count("VolumeDriver.Unmount") == 1, "\(plugin.callNames())")

                // A plugin error fails the launch with the plugin's own words.
                try plugin.control(["VolumeDriver.Mount": ["err": "pool blue is full", "status": 500]])
                let refused = try Self.config(fx, "touch /shared/ran", volume: "blue", sandbox: fx.base + "/c")
                var message = "launched"
                do { try await containerizer.launch(refused) } catch { message = "\(error)" }
                #expect(message.contains("Docker volume plugin 'vol' failed VolumeDriver.Mount of volume 'blue': pool blue is full"), "\(message)")
            }
        }
    }
}
