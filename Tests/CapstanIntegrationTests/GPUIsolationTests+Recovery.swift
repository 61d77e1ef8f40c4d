import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc
import Testing

extension EndToEnd.GPUIsolationTests {
    @Test("A container keeps its GPU across a SIGKILL of the agent: the next task gets the other GPU, and a kill frees both")
    func recoveredContainerKeepsItsGPU() async throws {
        guard Prerequisites.met("the devices cgroup needs root", missing: Prerequisites.missing([.root("cgroups need it")])) else { return }
        guard EndToEnd.GPUIsolationTests.devicesControllerPresent() else { return }
        try await TestCluster(masterFlags: EndToEnd.AgentRecoveryTests.masterFlags).run { cluster in
            let library = try FakeNVML.build(in: cluster.scratch + "/nvml")
            try await cluster.startMaster()
            let started = try await cluster.startAgent(
                resources: "cpus:2;mem:512;disk:256", extraArguments: EndToEnd.GPUResourceTests.gpuAgentArguments(library))
            let agent = EndToEnd.AgentRecoveryTests.RecoveringAgent(cluster: cluster, agent: started, imagesAvailable: false)
            let scheduler = try await EventRecorder.subscribe(cluster.master, name: "gpu-recovery", capabilities: [.init(type: .gpuResources)])

            func gpuOffer(atLeast count: Double) async throws -> Offer {
                var offer = try #require(try await scheduler.nextOffers().first)
                for _ in 0..<5 where try Resources(mesos: offer.resources).gpus < count {
                    offer = try #require(try await scheduler.nextOffers().first)
                }
                return offer
            }
            func launch(_ name: String, on offer: Offer) async throws -> String? {
                var task = TestTasks.command(name, "sleep 600", agent: offer.agentID)
                task.resources = Resources([.scalar("cpus", 0.1), .scalar("mem", 16), .scalar("gpus", 1)]).mesos
                try await scheduler.launch([task], on: [offer], refuseSeconds: 0)
                let running = try await scheduler.update(task.taskID, .taskRunning, timeout: .seconds(20))
                return running.labels?.labels.first { $0.key == "capstan.gpus" }?.value
            }

            let first = try await gpuOffer(atLeast: 2)
            #expect(try await launch("keeper", on: first) == "GPU-fake-0")
            // What the first task left is offered before the crash; the crash rescinds it, and the restarted agent's
            // resources are offered again.
            let leftover = try await gpuOffer(atLeast: 1)
            try await agent.crashAndRestart()
            var next = try await gpuOffer(atLeast: 1)
            if next.id == leftover.id { next = try await gpuOffer(atLeast: 1) }
            #expect(try Resources(mesos: next.resources).gpus == 1, "the recovered container still holds GPU 0")
            #expect(try await launch("newcomer", on: next) == "GPU-fake-1", "GPU 0 stays with the recovered container")

            for name in ["keeper", "newcomer"] {
                try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: TaskID(name), agentID: first.agentID)))
                try await scheduler.update(TaskID(name), .taskKilled, timeout: .seconds(20))
            }
            // Each kill frees one GPU, offered as it comes back (offers are not declined here, so not merged).
            var freed = 0.0
            for _ in 0..<4 where freed < 2 {
                for offer in try await scheduler.nextOffers() { freed += try Resources(mesos: offer.resources).gpus }
            }
            #expect(freed == 2, "both GPUs are free once both tasks are killed")
            await scheduler.disconnect()
            await agent.stop()
        }
    }
}
