import CapstanContainerizer
import CapstanCore
import Foundation
import Testing

@Suite("NvidiaCDIEdits")
struct NvidiaCDIEditsTests {
    /// An NVIDIA spec as `nvidia-ctk cdi generate` lays it out: devices by index, by UUID and `all`, shared edits at the
    /// spec level.
    static func registry() throws -> CDIRegistry {
        let kind = try CDIKind(parsing: "nvidia.com/gpu")
        func node(_ minor: Int64) -> CDIDeviceNode { CDIDeviceNode(path: "/dev/nvidia\(minor)", type: .char, major: 195, minor: minor) }
        let spec = CDISpec(
            version: .v0_5_0, kind: kind,
            devices: [
                CDIDevice(name: "0", containerEdits: CDIContainerEdits(deviceNodes: [node(0)])),
                CDIDevice(name: "GPU-b", containerEdits: CDIContainerEdits(deviceNodes: [node(1)])),
                CDIDevice(name: "all", containerEdits: CDIContainerEdits(deviceNodes: [node(0), node(1)])),
            ],
            containerEdits: CDIContainerEdits(
                env: ["NVIDIA_VISIBLE_DEVICES=void"],
                deviceNodes: [CDIDeviceNode(path: "/dev/nvidiactl", type: .char, major: 195, minor: 255, permissions: "rw")],
                mounts: [
                    CDIMount(hostPath: "/usr/lib/libcuda.so.1", containerPath: "/usr/lib/libcuda.so.1", options: ["ro", "nosuid", "bind"]),
                    CDIMount(hostPath: "tmpfs", containerPath: "/run/nvidia", type: "tmpfs"),
                ],
                hooks: [CDIHook(stage: .createContainer, path: "/usr/bin/nvidia-ctk", args: ["nvidia-ctk", "hook", "update-ldcache"])]))
        return CDIRegistry(directories: ["/etc/cdi"], specFiles: [CDISpecFile(path: "/etc/cdi/nvidia.yaml", directoryIndex: 0, spec: spec)])
    }

    static let gpus = [
        GPUDevice(index: 0, minor: 0, uuid: "GPU-a", name: "A"), GPUDevice(index: 1, minor: 1, uuid: "GPU-b", name: "B"),
        GPUDevice(index: 2, minor: 2, uuid: "GPU-c", name: "C"),
    ]

    @Test("A GPU is named by its index, else by its UUID; never 'all'; a GPU the spec lacks is refused naming the spec's devices")
    func namesGPUs() throws {
        let registry = try Self.registry()
        #expect(NvidiaCDIEdits.present(in: registry))
        #expect(!NvidiaCDIEdits.present(in: CDIRegistry(directories: [], specFiles: [])))
        #expect(try NvidiaCDIEdits.deviceNames(for: Array(Self.gpus.prefix(2)), in: registry) == ["nvidia.com/gpu=0", "nvidia.com/gpu=GPU-b"])
        #expect {
            try NvidiaCDIEdits.deviceNames(for: Self.gpus, in: registry)
        } throws: { error in
            let error = error as? CapstanError
            return error?.code == .notFound && error?.message.contains("no device for GPU 2 (GPU-c); its nvidia.com/gpu devices are 0, GPU-b, all") == true
        }
    }

    @Test("The plan becomes device nodes with their access, read-only bind mounts and environment; tmpfs mounts and hooks are reported, not applied")
    func turnsThePlanIntoHooks() throws {
        let registry = try Self.registry()
        let names = try NvidiaCDIEdits.deviceNames(for: [Self.gpus[0]], in: registry)
        let plan = try CDIDevicePlan(try registry.resolve(names).edits) { path in
            throw CapstanError(.notFound, "no host node \(path) in this test")
        }
        let application = NvidiaCDIEdits.application(of: plan)
        #expect(application.hooks.deviceNodes.map(\.path) == ["/dev/nvidiactl", "/dev/nvidia0"])
        #expect(application.hooks.deviceNodes.map(\.rule.description) == ["c 195:255 rw", "c 195:0 rwm"])
        #expect(application.hooks.mounts == [BindMountSpec(source: "/usr/lib/libcuda.so.1", target: "/usr/lib/libcuda.so.1", readOnly: true)])
        #expect(application.hooks.environment == ["NVIDIA_VISIBLE_DEVICES": "void"])
        #expect(application.ignored == ["tmpfs mount at /run/nvidia", "createContainer hook /usr/bin/nvidia-ctk"])
    }

    @Test("Merging keeps the first list's node at a path and adds the rest")
    func mergesByPath() {
        let spec = [DeviceNodeSpec(path: "/dev/nvidia0", major: 195, minor: 0, access: [.read])]
        let own = [DeviceNodeSpec(path: "/dev/nvidiactl", major: 195, minor: 255), DeviceNodeSpec(path: "/dev/nvidia0", major: 195, minor: 0)]
        #expect(NvidiaCDIEdits.merging(spec, own) == [spec[0], own[0]])
    }
}
