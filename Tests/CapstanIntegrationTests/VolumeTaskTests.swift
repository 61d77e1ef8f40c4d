import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// Tasks with Mesos `container.volumes` through the master: the agent allows the test's own directory only.
    @Suite("Tasks with host-path and sandbox-path volumes", Prerequisites.requires("volume task tests", [
        .root("bind mounts in the task's mount namespace need uid 0"),
    ]))
    struct VolumeTaskTests {
        static func volume(_ path: String, at containerPath: String, mode: Volume.Mode) -> Volume {
            Volume(mode: mode, containerPath: containerPath, source: .init(type: .hostPath, hostPath: .init(path: path)))
        }

        @Test("A read-only host-path volume is EROFS for the task and a read-write one lands on the host; a path outside --allowed-host-paths, with '..' or through a symlink that leads out is TASK_ERROR naming the field and the path")
        func hostPathVolumes() async throws {
            let scratch = "/tmp/capstan-vol-\(UUID().uuidString.prefix(8).lowercased())"
            let allowed = scratch + "/allowed", outside = scratch + "/outside"
            for directory in [allowed + "/ro", allowed + "/rw", outside] {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            try "kept\n".write(toFile: allowed + "/ro/file", atomically: true, encoding: .utf8)
            try FileManager.default.createSymbolicLink(atPath: allowed + "/escape", withDestinationPath: outside)
            try await TestCluster().run { cluster in
                try await cluster.startMaster()
                try await cluster.startAgent(extraArguments: ["--allowed-host-paths", allowed])
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                // Without an image, relative container paths are in the sandbox. FINISHED only when the write is refused.
                var reader = TestTasks.command(
                    "reader", "grep -q kept ro/file && ! echo x > ro/new && echo written > rw/out", agent: offer.agentID)
                reader.container = ContainerInfo(
                    type: .mesos, volumes: [Self.volume(allowed + "/ro", at: "ro", mode: .ro), Self.volume(allowed + "/rw", at: "rw", mode: .rw)])
                var refused: [TaskInfo] = []
                for (id, path) in [("outsider", outside), ("climber", allowed + "/../outside"), ("escaper", allowed + "/escape")] {
                    var task = TestTasks.command(id, "touch ran", agent: offer.agentID)
                    task.container = ContainerInfo(type: .mesos, volumes: [Self.volume(path, at: "v", mode: .rw)])
                    refused.append(task)
                }
                try await scheduler.launch([reader] + refused, on: [offer])
                let finished = try await scheduler.update("reader", .taskFinished, timeout: .seconds(20))
                #expect(finished.state == .taskFinished)
                #expect(!FileManager.default.fileExists(atPath: allowed + "/ro/new"))
                #expect((try? String(contentsOfFile: allowed + "/rw/out", encoding: .utf8)) == "written\n")

                let field = "task.container.volumes[0].source.host_path.path"
                let outsider = try await scheduler.update("outsider", .taskError)
                #expect(outsider.message == "\(field) '\(outside)' is not under the agent's --allowed-host-paths (\(allowed))", "\(outsider.message ?? "")")
                #expect(outsider.reason == .reasonTaskInvalid)
                let climber = try await scheduler.update("climber", .taskError)
                #expect(climber.message?.contains("\(field) '\(allowed)/../outside' contains '..'") == true, "\(climber.message ?? "")")
                let escaper = try await scheduler.update("escaper", .taskError)
                #expect(escaper.message?.contains("\(field) '\(allowed)/escape' leads through a symlink to '\(outside)'") == true, "\(escaper.message ?? "")")
                await scheduler.disconnect()
            }
        }

        @Test("An agent without --allowed-host-paths refuses every host path, saying which flag allows them; a sandbox path works")
        func noHostPathsByDefault() async throws {
            try await TestCluster().run { cluster in
                try await cluster.startMaster()
                try await cluster.startAgent()
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                var host = TestTasks.command("host", "true", agent: offer.agentID)
                host.container = ContainerInfo(type: .mesos, volumes: [Self.volume("/etc", at: "etc", mode: .ro)])
                var sandboxed = TestTasks.command("sandboxed", "echo kept > cache/x && test -f shared/x", agent: offer.agentID)
                sandboxed.container = ContainerInfo(type: .mesos, volumes: [
                    Volume(mode: .rw, containerPath: "cache", source: .init(type: .sandboxPath, sandboxPath: .init(type: .`self`, path: "store"))),
                    Volume(mode: .ro, containerPath: "shared", source: .init(type: .sandboxPath, sandboxPath: .init(type: .`self`, path: "store"))),
                ])
                try await scheduler.launch([host, sandboxed], on: [offer])
                let refused = try await scheduler.update("host", .taskError)
                #expect(refused.message?.contains("this agent allows no host paths (start it with --allowed-host-paths") == true, "\(refused.message ?? "")")
                try await scheduler.update("sandboxed", .taskFinished, timeout: .seconds(20))
                await scheduler.disconnect()
            }
        }

        @Test("Two tasks on one DOCKER_VOLUME share one plugin mount (Activate, Get, Create, Mount once; Unmount once both ended); a plugin Err is TASK_FAILED carrying its text", TestVolumePlugin.requirement)
        func dockerVolumes() async throws {
            let root = "/tmp/cdva-\(UUID().uuidString.prefix(6).lowercased())"  // short: unix socket paths are limited
            try FileManager.default.createDirectory(atPath: root + "/run/docker/plugins", withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: root) }
            let plugin = try TestVolumePlugin(address: root + "/run/docker/plugins/tvol.sock", state: root + "/state")
            defer { plugin.stop() }
            func volume(_ name: String) -> Volume {
                Volume(mode: .rw, containerPath: "shared", source: .init(type: .dockerVolume, dockerVolume: .init(driver: "tvol", name: name)))
            }
            try await TestCluster().run { cluster in
                try await cluster.startMaster()
                try await cluster.startAgent(extraArguments: ["--docker-volume-plugins-root", root])
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                // Each waits for the other's file: both run at once on the one mount.
                var first = TestTasks.command(
                    "first", "echo one > shared/one; while [ ! -e shared/two ]; do sleep 0.05; done", agent: offer.agentID)
                first.container = ContainerInfo(type: .mesos, volumes: [volume("data")])
                var second = TestTasks.command(
                    "second", "while [ ! -e shared/one ]; do sleep 0.05; done; echo two > shared/two", agent: offer.agentID)
                second.container = ContainerInfo(type: .mesos, volumes: [volume("data")])
                try await scheduler.launch([first, second], on: [offer])
                try await scheduler.update("first", .taskFinished, timeout: .seconds(30))
                try await scheduler.update("second", .taskFinished, timeout: .seconds(30))
                try await eventually("the plugin unmounted the volume", timeout: .seconds(10)) { plugin.count("VolumeDriver.Unmount") == 1 }
                #expect(plugin.callNames() == ["Plugin.Activate", "VolumeDriver.Get", "VolumeDriver.Create", "VolumeDriver.Mount", "VolumeDriver.Unmount"], "\(plugin.callNames())")

                try plugin.control(["VolumeDriver.Mount": ["err": "pool blue is locked by client.42", "status": 500]])
                let next = try #require(try await scheduler.nextOffers().first)
                var locked = TestTasks.command("locked", "true", agent: next.agentID)
                locked.container = ContainerInfo(type: .mesos, volumes: [volume("blue")])
                try await scheduler.launch([locked], on: [next])
                let failed = try await scheduler.update("locked", .taskFailed, timeout: .seconds(20))
                #expect(failed.message?.contains("Docker volume plugin 'tvol' failed VolumeDriver.Mount of volume 'blue': pool blue is locked by client.42") == true, "\(failed.message ?? "")")
                await scheduler.disconnect()
            }
        }
    }
}
