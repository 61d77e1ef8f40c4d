import CapstanContainerizer
import CapstanCore
import Foundation
import Testing

@Suite("GPU assignments and the device cgroup rules of gpu/nvidia")
struct GPUAssignmentsTests {
    static let gpus = (0..<3).map { GPUDevice(index: $0, minor: $0 + 4, uuid: "GPU-\($0)", name: "Fake") }

    @Test("GPUs go out lowest index first, come back when released, and a request past the free ones names how many are free")
    func assignsLowestFirstAndRefusesPastFree() throws {
        var assignments = GPUAssignments(devices: Self.gpus.reversed())
        #expect(try assignments.assign(2, to: ContainerID("a")).map(\.index) == [0, 1])
        #expect(try assignments.assign(0, to: ContainerID("b")).isEmpty)
        #expect(assignments.free.map(\.index) == [2])
        let error = #expect(throws: CapstanError.self) { try assignments.assign(2, to: ContainerID("c")) }
        #expect(error?.message.contains("asks for 2 GPUs but only 1 of the agent's 3 is free") == true, "\(String(describing: error))")
        #expect(assignments.gpus(of: ContainerID("c")).isEmpty, "a refused request holds nothing")
        assignments.release(ContainerID("a"))
        #expect(try assignments.assign(1, to: ContainerID("c")).map(\.index) == [0])
        #expect(try assignments.assign(3, to: ContainerID("c")).map(\.index) == [0], "a container keeps what it holds")
    }

    @Test("Recovered containers hold their GPUs again; GPUs the agent no longer offers are dropped")
    func restoreHoldsCheckpointedGPUs() throws {
        var assignments = GPUAssignments(devices: Self.gpus)
        let gone = GPUDevice(index: 7, minor: 7, uuid: "GPU-gone", name: "Fake")
        #expect(assignments.restore([Self.gpus[0], gone], to: ContainerID("old")).map(\.uuid) == ["GPU-0"])
        #expect(try assignments.assign(1, to: ContainerID("new")).map(\.index) == [1])
    }

    @Test("The device policy allows the defaults, nvidiactl, the container's own GPUs and nvidia-uvm(-tools) when the driver registered it")
    func policyOfAGPUContainer() {
        let proc = "Character devices:\n  1 mem\n195 nvidia\n234 nvidia-uvm\n\nBlock devices:\n  8 sd\n"
        var config = ContainerConfig(containerID: ContainerID("c"), command: CommandSpec(value: "true"), sandboxDirectory: "/tmp")
        config.deviceNodes = NvidiaDeviceNodes.nodes(gpus: [Self.gpus[1]], procDevices: proc)
        let lines = DevicesIsolator.policy(for: config).rules.map(\.description)
        #expect(lines.starts(with: DevicePolicy.containerDefaults.rules.map(\.description)))
        #expect(
            Array(lines.dropFirst(DevicePolicy.containerDefaults.rules.count)) == ["c 195:255 rwm", "c 195:5 rwm", "c 234:0 rwm", "c 234:1 rwm"])
        config.deviceNodes = NvidiaDeviceNodes.nodes(gpus: [], procDevices: proc)
        #expect(DevicesIsolator.policy(for: config) == DevicePolicy.containerDefaults, "no GPU: no NVIDIA node at all")
        #expect(NvidiaDeviceNodes.characterMajor(named: "sd", in: proc) == nil, "block devices are not character majors")
        let nodes = NvidiaDeviceNodes.nodes(gpus: [Self.gpus[1]], procDevices: "Character devices:\n195 nvidia\n")
        #expect(nodes == [DeviceNodeSpec(path: "/dev/nvidiactl", major: 195, minor: 255), DeviceNodeSpec(path: "/dev/nvidia5", major: 195, minor: 5)])
    }

    @Test("The GPUs assigned travel in the container's checkpointed configuration; older checkpoints have none")
    func configCarriesGPUs() throws {
        var config = ContainerConfig(containerID: ContainerID("c"), command: CommandSpec(value: "true"), sandboxDirectory: "/tmp", limits: ResourceLimits(gpus: 1))
        config.gpus = [Self.gpus[2]]
        config.deviceNodes = [DeviceNodeSpec(path: "/dev/nvidia6", major: 195, minor: 6)]
        let decoded = try JSONDecoder().decode(ContainerConfig.self, from: JSONEncoder().encode(config))
        #expect(decoded == config)
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as? [String: Any])
        object["gpus"] = nil
        object["deviceNodes"] = nil
        let old = try JSONDecoder().decode(ContainerConfig.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.gpus.isEmpty && old.deviceNodes.isEmpty && old.limits.gpus == 1)
    }
}
