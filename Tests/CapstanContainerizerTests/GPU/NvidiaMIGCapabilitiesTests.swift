import CapstanContainerizer
import CapstanCore
import Testing

@Suite("NvidiaMIGCapabilities")
struct NvidiaMIGCapabilitiesTests {
    static let minors = """
        config 1
        monitor 2
        gpu0/gi0/access 3
        gpu0/gi0/ci0/access 4
        gpu0/gi1/access 12
        gpu0/gi1/ci0/access 13
        gpu0/gi1/ci1/access 14
        gpu1/gi1/access 147
        gpu1/gi1/ci0/access 148
        gpu1/gi1/bogus 9
        something else entirely
        gpuX/gi1/access 10
        """
    static let procDevices = "Character devices:\n195 nvidia\n237 nvidia-caps\n\nBlock devices:\n  8 sd\n"

    @Test("mig-minors: config, monitor, and each GPU instance's and compute instance's access minor; other lines are left out")
    func parsesMigMinors() {
        let caps = NvidiaMIGCapabilities(parsing: Self.minors)
        #expect(caps.config == 1)
        #expect(caps.monitor == 2)
        #expect(caps.access.count == 7)
        #expect(caps.access[2] == .init(gpu: 0, gpuInstance: 1, minor: 12))
        #expect(caps.access[3] == .init(gpu: 0, gpuInstance: 1, computeInstance: 0, minor: 13))
        #expect(caps.access.last == .init(gpu: 1, gpuInstance: 1, computeInstance: 0, minor: 148))
    }

    @Test("A GPU in MIG mode brings its instances' access nodes (read-only, major nvidia-caps); a GPU not in MIG mode none, and never config or monitor")
    func nodesOfMIGGPUs() {
        let caps = NvidiaMIGCapabilities(parsing: Self.minors)
        let mig = GPUDevice(index: 0, minor: 0, uuid: "GPU-a", name: "A100", migDevices: ["MIG-1", "MIG-2"])
        let whole = GPUDevice(index: 1, minor: 1, uuid: "GPU-b", name: "A100")
        let nodes = caps.nodes(gpus: [mig, whole], procDevices: Self.procDevices)
        #expect(nodes.map(\.path) == [3, 4, 12, 13, 14].map { "/dev/nvidia-caps/nvidia-cap\($0)" })
        #expect(nodes.allSatisfy { $0.major == 237 && $0.kind == .char && $0.access == [.read, .mknod] })
        #expect(nodes.first?.rule.description == "c 237:3 rm")
        #expect(caps.nodes(gpus: [whole], procDevices: Self.procDevices).isEmpty)
        #expect(caps.nodes(gpus: [mig], procDevices: "Character devices:\n195 nvidia\n").isEmpty, "no nvidia-caps major, no nodes")
    }
}
