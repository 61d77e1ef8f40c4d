import CapstanAPI
import CapstanCore
import CapstanHTTP
import Foundation
import Testing

@Suite("LegacyJSON")
struct LegacyJSONTests {
    @Test("A v1 message embedded in a legacy document keeps its JSON: strings, numbers, booleans, arrays, objects")
    func embedsMessagesUnchanged() throws {
        var info = FrameworkInfo(user: "root", name: "web")
        info.checkpoint = true
        info.failoverTimeout = 2.5
        info.roles = ["a", "b"]
        info.id = FrameworkID("fw-1")
        let embedded = String(decoding: try MesosJSON.encode(LegacyJSON(mesos: info)), as: UTF8.self)
        #expect(embedded == String(decoding: try MesosJSON.encode(info), as: UTF8.self))
        #expect(embedded.contains(#""checkpoint":true"#))
    }

    @Test("A task's legacy form carries its container status, where tools read its IP addresses")
    func taskCarriesContainerStatus() throws {
        var status = TaskStatus(taskID: "t", state: .taskRunning)
        status.timestamp = 12
        status.containerStatus = ContainerStatus(
            containerID: ContainerID("c"), networkInfos: [NetworkInfo(ipAddresses: [.init(ipAddress: "10.0.0.7")])])
        let task = MesosTask(name: "t", taskID: "t", frameworkID: "f", agentID: AgentID("a"), state: .taskRunning, statuses: [status])
        let text = String(decoding: try MesosJSON.encode(task.legacyJSON), as: UTF8.self)
        #expect(text.contains(#""ip_address":"10.0.0.7""#), "\(text)")
        #expect(text.contains(#""statuses":[{"container_status""#), "\(text)")
    }
}
