import Testing

@testable import CapstanCore

@Suite("DRFAllocator: agents with GPUs go only to frameworks with GPU_RESOURCES (Mesos 1.0)")
struct DRFAllocatorGPUTests {
    static let gpuAgent = Resources([.scalar("cpus", 4), .scalar("mem", 4096), .scalar("gpus", 2)])
    static let plainAgent = Resources([.scalar("cpus", 4), .scalar("mem", 4096)])

    @Test func aFrameworkWithoutTheCapabilityNeverSeesAGPUAgent() {
        var allocator = DRFAllocator()
        allocator.addAgent("gpu", total: Self.gpuAgent)
        allocator.addAgent("plain", total: Self.plainAgent)
        allocator.addFramework("cpu-only", role: "*")
        for cycle in 0..<5 {
            let offers = allocator.allocate(now: Double(cycle))
            #expect(offers.allSatisfy { $0.agentID == "plain" }, "cycle \(cycle): \(offers)")
        }
        #expect(allocator.available(on: "gpu") == Self.gpuAgent, "the GPU machine stays whole")
    }

    @Test func aFrameworkWithTheCapabilityGetsTheGPUsAndTheRestAfterwards() {
        var allocator = DRFAllocator()
        allocator.addAgent("gpu", total: Self.gpuAgent)
        allocator.addFramework("trainer", role: "*", acceptsGPUs: true)
        let first = allocator.allocate(now: 0)
        #expect(first.count == 1 && first[0].resources.gpus == 2)
        // It launches on one GPU and hands the rest back: the next offer holds the other.
        let used = Resources([.scalar("cpus", 1), .scalar("mem", 512), .scalar("gpus", 1)])
        allocator.recover(Self.gpuAgent - used, from: "trainer", on: "gpu", refuseSeconds: 0)
        let second = allocator.allocate(now: 1)
        #expect(second.count == 1 && second[0].resources.gpus == 1, "\(second)")
    }

    @Test func failingOverWithoutTheCapabilityLosesTheGPUAgent() {
        var allocator = DRFAllocator()
        allocator.addAgent("gpu", total: Self.gpuAgent)
        allocator.addFramework("f", role: "*", acceptsGPUs: true)
        allocator.setAcceptsGPUs("f", false)
        #expect(allocator.allocate(now: 0).isEmpty)
        allocator.setAcceptsGPUs("f", true)
        #expect(allocator.allocate(now: 1).count == 1)
    }

    @Test func theWithholdingNamesTheGPUAgentsAndWhyOnlyForFrameworksWithoutTheCapability() {
        var allocator = DRFAllocator()
        allocator.addFramework("cpu-only", role: "*")
        #expect(!allocator.hasGPUAgents && allocator.withholding(from: "cpu-only") == nil, "no GPU agent: nothing withheld")
        allocator.addAgent("gpu-b", total: Self.gpuAgent)
        allocator.addAgent("plain", total: Self.plainAgent)
        allocator.addAgent("gpu-a", total: Self.gpuAgent)
        allocator.addFramework("trainer", role: "*", acceptsGPUs: true)
        #expect(allocator.hasGPUAgents)
        #expect(
            allocator.withholding(from: "cpu-only")
                == OfferWithholding(agentIDs: ["gpu-a", "gpu-b"], reason: OfferWithholding.lacksGPUResources))
        #expect(OfferWithholding.lacksGPUResources.contains("lacks the GPU_RESOURCES capability"))
        #expect(allocator.withholding(from: "trainer") == nil)
        #expect(allocator.withholding(from: "unknown") == nil)
        // Dropping the capability on failover withholds them; an agent leaving is no longer named.
        allocator.setAcceptsGPUs("trainer", false)
        allocator.removeAgent("gpu-b")
        #expect(allocator.withholding(from: "trainer")?.agentIDs == ["gpu-a"])
        // A withheld agent is one the allocator indeed never offers to the framework.
        let offers = allocator.allocate(now: 0)
        #expect(!offers.contains { $0.agentID == "gpu-a" }, "\(offers)")
        allocator.removeAgent("gpu-a")
        #expect(allocator.withholding(from: "cpu-only") == nil && !allocator.hasGPUAgents)
    }
}
