import CapstanContainerizer
import CapstanCore
import Foundation
import Logging
import Testing

/// What `gpu/nvidia`'s `prepare` contributes besides the GPUs' own nodes: the driver volume, the NVIDIA CDI spec's
/// edits, and MIG capability nodes. `prepare` has no effects of its own, so no root is needed.
@Suite("The gpu/nvidia isolator's driver volume, NVIDIA CDI edits and MIG capabilities")
struct NvidiaGPUIsolatorDriverTests {
    static let procDevices = "Character devices:\n195 nvidia\n237 nvidia-caps\n"
    static let volume = NvidiaDriverVolume(directory: "/work/gpu/nvidia-driver-1.0", version: "1.0")
    static let labelled = ImageProcessConfig(env: ["PATH=/bin"], labels: ["com.nvidia.volumes.needed": "nvidia_driver"])

    static func config(_ id: String, gpus: Int, image: ImageProcessConfig?) -> ContainerConfig {
        var config = ContainerConfig(
            containerID: ContainerID(id), command: CommandSpec(value: "true"), sandboxDirectory: "/tmp", limits: ResourceLimits(gpus: gpus))
        if let image {
            config.rootfs = .directory("/rootfs")
            config.imageConfig = image
        }
        return config
    }

    @Test("An image task asking for the driver gets the volume read-only at /usr/local/nvidia; one that does not, a command task, or a task without GPUs does not")
    func mountsTheVolumeWhenAsked() async throws {
        let gpus = (0..<2).map { GPUDevice(index: $0, minor: $0, uuid: "GPU-\($0)", name: "Fake") }
        let isolator = NvidiaGPUIsolator(gpus: gpus, logger: Logger(label: "test"), procDevices: { Self.procDevices }, driverVolume: Self.volume)
        let asked = try #require(try await isolator.prepare(Self.config("asked", gpus: 1, image: Self.labelled)))
        #expect(asked.mounts == [BindMountSpec(source: Self.volume.directory, target: "/usr/local/nvidia", readOnly: true)])
        #expect(asked.environment.isEmpty, "the image's own PATH and LD_LIBRARY_PATH stay")
        let unasked = try await isolator.prepare(Self.config("unasked", gpus: 1, image: ImageProcessConfig(env: ["PATH=/bin"])))
        #expect(unasked?.mounts == [])
        try await isolator.cleanup(ContainerID("asked"))
        let command = try await isolator.prepare(Self.config("command", gpus: 1, image: nil))
        #expect(command?.mounts == [])
        let none = try await isolator.prepare(Self.config("none", gpus: 0, image: Self.labelled))
        #expect(none?.mounts == [] && none?.deviceNodes == [])
    }

    @Test("With an NVIDIA CDI spec the granted GPU's edits replace the driver volume: its nodes (beside the GPU's own), mounts and environment")
    func usesTheCDISpecInstead() async throws {
        let gpus = [GPUDevice(index: 0, minor: 0, uuid: "GPU-a", name: "A"), GPUDevice(index: 1, minor: 1, uuid: "GPU-b", name: "B")]
        let isolator = NvidiaGPUIsolator(
            gpus: gpus, logger: Logger(label: "test"), procDevices: { Self.procDevices }, driverVolume: Self.volume,
            cdi: try NvidiaCDIEditsTests.registry(), cdiLookup: { path in throw CapstanError(.notFound, "no \(path)") })
        let hooks = try #require(try await isolator.prepare(Self.config("cdi", gpus: 1, image: Self.labelled)))
        #expect(hooks.deviceNodes.map(\.path) == ["/dev/nvidiactl", "/dev/nvidia0"])
        #expect(hooks.deviceNodes.first?.access == [.read, .write], "the spec's node wins over the isolator's own")
        #expect(hooks.mounts.map(\.target) == ["/usr/lib/libcuda.so.1"], "no /usr/local/nvidia")
        #expect(hooks.environment == ["NVIDIA_VISIBLE_DEVICES": "void"])
        let second = try #require(try await isolator.prepare(Self.config("cdi-command", gpus: 1, image: nil)))
        #expect(second.deviceNodes.map(\.path) == ["/dev/nvidiactl", "/dev/nvidia1"], "GPU 1 is named by its UUID in the spec")
        #expect(second.mounts.isEmpty && second.environment.isEmpty, "a command task sees the host's driver")
    }

    @Test("A GPU in MIG mode brings the access capability nodes of its instances, read from the mig-minors file; a GPU without MIG none")
    func addsMIGCapabilities() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-mig-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/mig-minors"
        try NvidiaMIGCapabilitiesTests.minors.write(toFile: file, atomically: true, encoding: .utf8)
        let gpus = [
            GPUDevice(index: 0, minor: 0, uuid: "GPU-a", name: "A100", migDevices: ["MIG-a1"]), GPUDevice(index: 1, minor: 1, uuid: "GPU-b", name: "A100"),
        ]
        let isolator = NvidiaGPUIsolator(
            gpus: gpus, logger: Logger(label: "test"), procDevices: { Self.procDevices },
            migMinors: { (try? String(contentsOfFile: file, encoding: .utf8)) ?? "" })
        let mig = try #require(try await isolator.prepare(Self.config("mig", gpus: 1, image: nil)))
        #expect(mig.deviceNodes.map(\.path) == ["/dev/nvidiactl", "/dev/nvidia0"] + [3, 4, 12, 13, 14].map { "/dev/nvidia-caps/nvidia-cap\($0)" })
        let caps = mig.deviceNodes.filter { $0.path.hasPrefix("/dev/nvidia-caps/") }
        #expect(caps.map(\.rule.description) == ["c 237:3 rm", "c 237:4 rm", "c 237:12 rm", "c 237:13 rm", "c 237:14 rm"])
        let whole = try #require(try await isolator.prepare(Self.config("whole", gpus: 1, image: nil)))
        #expect(whole.deviceNodes.map(\.path) == ["/dev/nvidiactl", "/dev/nvidia1"])
    }
}
