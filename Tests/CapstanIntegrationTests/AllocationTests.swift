import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    @Suite("Allocation across frameworks")
    struct AllocationTests {
        /// Accepts every offer by launching one 1-CPU task and returning the rest at once (refuse_seconds 0).
        static func acceptOneCPUPerOffer(_ scheduler: EventRecorder, prefix: String, count: Int) async throws {
            for index in 0..<count {
                let offer = try #require(try await scheduler.nextOffers(timeout: .seconds(15)).first)
                try await scheduler.launch(
                    [TestTasks.command("\(prefix)-\(index)", "sleep 60", agent: offer.agentID, cpus: 1, mem: 64)], on: [offer],
                    refuseSeconds: 0)
            }
        }

        @Test("Two frameworks share one agent according to DRF: two 1-CPU tasks each on 4 CPUs")
        func twoFrameworksShareByDRF() async throws {
            try await TestCluster.with(resources: "cpus:4;mem:4096;disk:1024;ports:[31000-31099]") { cluster in
                let a = try await EventRecorder.subscribe(cluster.master, name: "drf-a")
                let b = try await EventRecorder.subscribe(cluster.master, name: "drf-b")
                async let doneA: Void = Self.acceptOneCPUPerOffer(a, prefix: "a", count: 2)
                async let doneB: Void = Self.acceptOneCPUPerOffer(b, prefix: "b", count: 2)
                _ = try await (doneA, doneB)
                try await eventually("four tasks running") {
                    let tasks = try await OperatorClient(cluster.master).call(.getTasks).getTasks?.tasks ?? []
                    return tasks.filter { $0.state == .taskRunning }.count == 4
                }
                let frameworks = try await OperatorClient(cluster.master).call(.getFrameworks).getFrameworks?.frameworks ?? []
                for framework in frameworks {
                    let used = try Resources(mesos: framework.allocatedResources)
                    #expect(used.cpus == 2, "\(framework.frameworkInfo.name) holds \(used.cpus) CPUs, expected its DRF share of 2")
                }
                // A third offer round would exceed the agent: neither framework got more than its share.
                let tasks = try await OperatorClient(cluster.master).call(.getTasks).getTasks?.tasks ?? []
                #expect(tasks.filter { $0.frameworkID == a.frameworkID }.count == 2)
                #expect(tasks.filter { $0.frameworkID == b.frameworkID }.count == 2)
                await a.disconnect()
                await b.disconnect()
            }
        }

        @Test("Offers carry agent attributes and only unreserved or own-role resources")
        func offersCarryAttributes() async throws {
            try await TestCluster().run { cluster in
                try await cluster.startMaster()
                try await cluster.startAgent(resources: "cpus:2;mem:512;cpus(web):1", attributes: "zone:a;rack:7")
                let batch = try await EventRecorder.subscribe(cluster.master, name: "batch", role: "batch")
                let offer = try #require(try await batch.nextOffers().first)
                let offered = try Resources(mesos: offer.resources)
                #expect(offered.cpus == 2, "the web-reserved CPU must not be offered to role batch")
                #expect(offer.attributes.contains { $0.name == "zone" && $0.text?.value == "a" })
                #expect(offer.attributes.contains { $0.name == "rack" && $0.scalar?.value == 7 })
                await batch.disconnect()
                try await eventually("batch framework removed and its offer rescinded") {
                    try await OperatorClient(cluster.master).call(.getFrameworks).getFrameworks?.frameworks.isEmpty == true
                }
                let web = try await EventRecorder.subscribe(cluster.master, name: "web", role: "web")
                let webOffer = try #require(try await web.nextOffers().first)
                #expect(try Resources(mesos: webOffer.resources).cpus == 3)
                await web.disconnect()
            }
        }
    }
}
