import CapstanAPI
import CapstanCore
import Foundation
import Testing

/// Capstan's extra fields in Mesos responses: added under `capstan_` names, absent when empty, and Mesos' own
/// JSON (without them) still decodes.
@Suite("Capstan's extension fields on the wire")
struct CapstanExtensionFieldTests {
    @Test func aWithholdingIsEncodedAsCapstanWithheldAgentsAndOnlyWhenThere() throws {
        var framework = OperatorResponse.GetFrameworks.Framework(frameworkInfo: FrameworkInfo(user: "root", name: "f"), active: true, connected: true)
        let plain = String(decoding: try MesosJSON.encode(framework), as: UTF8.self)
        #expect(!plain.contains("capstan_withheld_agents"), "\(plain)")
        framework.withheldAgents = WithheldAgents(agentIDs: ["a1"], reason: OfferWithholding.lacksGPUResources)
        let text = String(decoding: try MesosJSON.encode(framework), as: UTF8.self)
        #expect(text.contains(#""capstan_withheld_agents":{"agent_ids":[{"value":"a1"}],"reason":"the framework lacks the GPU_RESOURCES capability"#), "\(text)")
        #expect(try MesosJSON.decode(OperatorResponse.GetFrameworks.Framework.self, from: Data(text.utf8)) == framework)
        let mesos = #"{"framework_info":{"user":"root","name":"f"},"active":true,"connected":true}"#
        #expect(try MesosJSON.decode(OperatorResponse.GetFrameworks.Framework.self, from: Data(mesos.utf8)).withheldAgents == nil)
    }

    @Test func aContainersGPUsAreEncodedAsCapstanGPUsAndOnlyWhenThere() throws {
        var container = AgentOperatorResponse.GetContainers.Container(containerID: "c1")
        #expect(!String(decoding: try MesosJSON.encode(container), as: UTF8.self).contains("capstan_gpus"))
        container.gpus = [ContainerGPU(uuid: "GPU-1", memoryUsedBytes: 5, memoryTotalBytes: 10, utilizationPercent: 50), ContainerGPU(uuid: "GPU-2")]
        let text = String(decoding: try MesosJSON.encode(container), as: UTF8.self)
        #expect(text.contains(#""capstan_gpus":[{"memory_total_bytes":10,"memory_used_bytes":5,"utilization_percent":50,"uuid":"GPU-1"},{"uuid":"GPU-2"}]"#), "\(text)")
        #expect(try MesosJSON.decode(AgentOperatorResponse.GetContainers.Container.self, from: Data(text.utf8)) == container)
    }
}
