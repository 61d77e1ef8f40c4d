import CapstanContainerizer
import CapstanCore
import Foundation
import Glibc
import Testing

/// A provisioner that hands out fixed layers and records its calls.
struct FakeProvisioner: Provisioner {
    let log: EventLog
    var fail = false

    func provision(_ image: ContainerImage, for id: ContainerID) async throws -> ProvisionedRootfs {
        await log.record("provision \(image.reference)")
        if fail { throw CapstanError(.notFound, "cannot provide image \(image.reference): 404 Not Found") }
        return ProvisionedRootfs(layers: ["/layers/a", "/layers/b"], process: ImageProcessConfig(cmd: ["sh"], user: "nobody"))
    }

    func release(_ id: ContainerID) async throws {
        await log.record("release")
    }
}

@Suite("Containerizer provisioning")
struct ContainerizerProvisionerTests {
    @Test func aContainerNamingAnImageGetsItsRootfsFromTheProvisionerRunsThroughTheRootfsLauncherAndReleasesItsLayers() async throws {
        try await Sandbox.with { sandbox in
            let log = EventLog()
            let checkpoints = sandbox.path + "/checkpoints"
            let containerizer = Containerizer(
                launcher: RecordingLauncher(name: "plain", log: log), rootfsLauncher: RecordingLauncher(name: "rootfs", log: log),
                provisioner: FakeProvisioner(log: log), isolators: [FakeIsolator(name: "cgroups", log: log)], logger: quietLogger,
                checkpointDirectory: checkpoints)
            var config = sandbox.config("sleep 0.3")
            config.image = ContainerImage(reference: "busybox:e2e")
            try await containerizer.launch(config)
            // The live container (and so its checkpoint, read at recovery) names the provisioned rootfs.
            #expect(await containerizer.config(of: config.containerID)?.rootfs == .layers(["/layers/a", "/layers/b"]))
            let checkpoint = try JSONDecoder().decode(
                ContainerRecoveryState.self, from: Data(contentsOf: URL(fileURLWithPath: checkpoints + "/\(config.containerID).json")))
            #expect(checkpoint.config.rootfs == .layers(["/layers/a", "/layers/b"]))
            #expect(checkpoint.config.image == ContainerImage(reference: "busybox:e2e"))
            #expect(checkpoint.config.imageConfig?.user == "nobody")
            let id = config.containerID
            #expect(try await within { try await containerizer.wait(id) }.exitStatus == 0)
            #expect(
                await log.phases == [
                    "provision busybox:e2e", "prepare cgroups", "launch rootfs \(config.containerID)",
                    "rootfs [\"/layers/a\", \"/layers/b\"] user nobody", "isolate cgroups", "cleanup cgroups", "release",
                ])
        }
    }

    @Test func aFailedProvisionFailsTheLaunchNamingTheImageAndCleansUp() async throws {
        try await Sandbox.with { sandbox in
            let log = EventLog()
            let containerizer = Containerizer(
                launcher: RecordingLauncher(name: "plain", log: log), rootfsLauncher: RecordingLauncher(name: "rootfs", log: log),
                provisioner: FakeProvisioner(log: log, fail: true), isolators: [FakeIsolator(name: "cgroups", log: log)],
                logger: quietLogger)
            var config = sandbox.config("true")
            config.image = ContainerImage(reference: "docker://127.0.0.1:1/missing:1")
            await #expect(throws: CapstanError.self) { try await containerizer.launch(config) }
            let termination = try await containerizer.wait(config.containerID)
            #expect(termination.message == "cannot provide image docker://127.0.0.1:1/missing:1: 404 Not Found")
            #expect(await log.phases == ["provision docker://127.0.0.1:1/missing:1", "cleanup cgroups", "release"])
        }
    }

    @Test func aContainerizerWithoutAProvisionerRefusesAnImage() async throws {
        try await Sandbox.with { sandbox in
            let containerizer = makeContainerizer()
            var config = sandbox.config("true")
            config.image = ContainerImage(reference: "busybox:e2e")
            await #expect(throws: CapstanError.self) { try await containerizer.launch(config) }
            let termination = try await containerizer.wait(config.containerID)
            #expect(termination.message.contains("names image busybox:e2e but this containerizer cannot run images"), "\(termination)")
        }
    }

    @Test func aCheckpointWrittenBeforeImagesWereProvisionedStillDecodes() throws {
        // Before, `image` held the process configuration.
        var old = ContainerConfig(
            containerID: ContainerID("c1"), command: CommandSpec(shell: true, value: "true"), sandboxDirectory: "/s",
            rootfs: .layers(["/l"]))
        old.networkMode = .host
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(old)) as? [String: Any])
        object["image"] = ["entrypoint": ["/bin/sh"], "cmd": [String](), "env": [String]()]
        let json = try JSONSerialization.data(withJSONObject: object)
        let config = try JSONDecoder().decode(ContainerConfig.self, from: json)
        #expect(config.imageConfig?.entrypoint == ["/bin/sh"])
        #expect(config.image == nil)
        #expect(config.rootfs == .layers(["/l"]))
    }
}
