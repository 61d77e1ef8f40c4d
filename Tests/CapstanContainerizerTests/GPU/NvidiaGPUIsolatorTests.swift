import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc
import Logging
import Testing

@Suite("The gpu/nvidia isolator's assignments with the cgroups/devices isolator")
struct NvidiaGPUIsolatorTests {
    static let gpus = (0..<2).map { GPUDevice(index: $0, minor: $0, uuid: "GPU-fake-\($0)", name: "Fake") }

    static func config(_ id: String, gpus: Int) -> ContainerConfig {
        ContainerConfig(containerID: ContainerID(id), command: CommandSpec(value: "true"), sandboxDirectory: "/tmp", limits: ResourceLimits(gpus: gpus))
    }

    @Test("prepare assigns a GPU and allows only its node; a request past the free GPUs fails naming how many are free; recovery holds checkpointed GPUs; cleanup frees them and removes the cgroup")
    func assignsIsolatesRecoversAndCleansUp() async throws {
        guard Prerequisites.met("the devices cgroup", .root("cgroups need uid 0")) else { return }
        let hasDevices = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/devices/devices.allow")
        guard Prerequisites.met("the devices cgroup", missing: hasDevices ? nil : "no cgroup v1 devices controller at /sys/fs/cgroup/devices") else {
            return
        }
        let logger = Logger(label: "test")
        let isolator = NvidiaGPUIsolator(gpus: Self.gpus, logger: logger, procDevices: { "Character devices:\n195 nvidia\n" })
        let devices = DevicesIsolator(controller: try #require(DevicesCgroupV1()), logger: logger)
        var first = Self.config("gpu-iso-\(UUID().uuidString.prefix(8))", gpus: 1)
        let hooks = try #require(try await isolator.prepare(first))
        #expect(hooks.gpus.map(\.uuid) == ["GPU-fake-0"])
        #expect(hooks.deviceNodes.map(\.path) == ["/dev/nvidiactl", "/dev/nvidia0"])
        first.deviceNodes = hooks.deviceNodes  // as the containerizer hands them to the isolators after gpu/nvidia
        _ = try await devices.prepare(first)
        let list = (try? String(contentsOfFile: devices.cgroupPath(of: first.containerID) + "/devices.list", encoding: .utf8)) ?? ""
        #expect(list.contains("c 195:0 rwm") && list.contains("c 195:255 rwm") && !list.contains("c 195:1 "), "\(list)")
        #expect(!list.contains("a *:* rwm"), "everything else is denied: \(list)")

        let greedy = Self.config("gpu-iso-greedy-\(UUID().uuidString.prefix(8))", gpus: 2)
        await #expect {
            _ = try await isolator.prepare(greedy)
        } throws: { error in
            (error as? CapstanError)?.message.contains("asks for 2 GPUs but only 1 of the agent's 2 is free") == true
        }
        try await isolator.cleanup(greedy.containerID)

        // A second isolator stands for the restarted agent: the checkpointed config names GPU 0.
        var checkpointed = first
        checkpointed.gpus = hooks.gpus
        let restarted = NvidiaGPUIsolator(gpus: Self.gpus, logger: logger)
        try await restarted.recover([
            ContainerRecoveryState(containerID: first.containerID, pid: getpid(), config: checkpointed),
            ContainerRecoveryState(containerID: ContainerID("gone"), pid: nil, config: { var c = checkpointed; c.containerID = ContainerID("gone"); return c }()),
        ])
        #expect(restarted.gpus(of: first.containerID).map(\.uuid) == ["GPU-fake-0"])
        #expect(restarted.free.map(\.uuid) == ["GPU-fake-1"], "a container found gone holds nothing")

        try await restarted.cleanup(first.containerID)
        try await devices.cleanup(first.containerID)
        #expect(restarted.free.count == 2)
        #expect(!FileManager.default.fileExists(atPath: devices.cgroupPath(of: first.containerID)))
    }
}
