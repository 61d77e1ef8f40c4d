import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// `gpu/nvidia` on a machine without a GPU: the agent loads a fake NVML the test compiles (two GPUs), offers them as
    /// `gpus`, and the master hands that agent only to frameworks with GPU_RESOURCES, as Mesos 1.0 does.
    @Suite("GPUs offered through gpu/nvidia (fake NVML)")
    struct GPUResourceTests {
        static func gpuAgentArguments(_ library: String, _ extra: [String] = []) -> [String] {
            ["--isolation", "gpu/nvidia", "--nvml-library", library] + extra
        }

        @Test("An agent offers the GPUs NVML reports; a framework without GPU_RESOURCES never gets that agent; one with it gets gpus 2, launches on 1, and is offered the other")
        func gpusGoOnlyToFrameworksThatAskForThem() async throws {
            try await TestCluster().run { cluster in
                let library = try FakeNVML.build(in: cluster.scratch + "/nvml")
                try await cluster.startMaster()
                _ = try await cluster.startAgent(resources: "cpus:2;mem:512;disk:256", extraArguments: Self.gpuAgentArguments(library))
                let agents = try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents ?? []
                let total = try Resources(mesos: try #require(agents.first).totalResources)
                #expect(total.gpus == 2, "\(total)")

                // Without the capability: no offer from the only agent, which has GPUs.
                let plain = try await EventRecorder.subscribe(cluster.master, name: "no-gpus")
                await #expect(throws: (any Error).self) { _ = try await plain.nextOffers(timeout: .seconds(2)) }
                await plain.disconnect()

                let trainer = try await EventRecorder.subscribe(cluster.master, name: "trainer", capabilities: [.init(type: .gpuResources)])
                let offer = try #require(try await trainer.nextOffers().first)
                #expect(try Resources(mesos: offer.resources).gpus == 2)
                var task = TestTasks.command("train-0", "sleep 600", agent: offer.agentID)
                task.resources = Resources([.scalar("cpus", 0.1), .scalar("mem", 32), .scalar("gpus", 1)]).mesos
                try await trainer.launch([task], on: [offer], refuseSeconds: 0)
                try await trainer.update(task.taskID, .taskRunning, timeout: .seconds(20))
                let next = try #require(try await trainer.nextOffers().first)
                #expect(try Resources(mesos: next.resources).gpus == 1, "the other GPU is offered next")
                try await trainer.send(SchedulerCall(type: .kill, kill: .init(taskID: task.taskID, agentID: offer.agentID)))
                try await trainer.update(task.taskID, .taskKilled, timeout: .seconds(20))
                await trainer.disconnect()
            }
        }

        @Test("--nvidia-gpu-devices picks GPUs and must agree with gpus in --resources; without NVML the agent refuses to start and says why")
        func deviceSelectionAndRefusals() async throws {
            try await TestCluster().run { cluster in
                let library = try FakeNVML.build(in: cluster.scratch + "/nvml")
                try await cluster.startMaster()
                _ = try await cluster.startAgent(
                    resources: "cpus:1;mem:256;disk:128;gpus:1", extraArguments: Self.gpuAgentArguments(library, ["--nvidia-gpu-devices", "1"]))
                let agents = try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents ?? []
                #expect(try Resources(mesos: try #require(agents.first).totalResources).gpus == 1)

                func refusal(_ arguments: [String]) async throws -> String {
                    let run = try await EndToEnd.DiffCommandTests.run(
                        [CapstanBinary.path, "agent", "--insecure", "--listen", "127.0.0.1:0", "--work-dir", cluster.scratch + "/refused"] + arguments)
                    #expect(run.status != 0, "\(arguments) started: \(run.stdout)")
                    return run.stderr
                }
                let mismatch = try await refusal(["--resources", "gpus:2"] + Self.gpuAgentArguments(library, ["--nvidia-gpu-devices", "1"]))
                #expect(mismatch.contains("--resources gpus:2 must equal the 1 GPU(s) of --nvidia-gpu-devices"), "\(mismatch)")
                let absent = try await refusal(Self.gpuAgentArguments(library, ["--nvidia-gpu-devices", "5", "--resources", "gpus:1"]))
                #expect(absent.contains("this machine has no GPU 5 (NVML reports 0, 1)"), "\(absent)")
                let noDriver = try await refusal(Self.gpuAgentArguments(cluster.scratch + "/none/libnvidia-ml.so.1"))
                #expect(noDriver.contains("cannot load NVML"), "\(noDriver)")
                let noIsolator = try await refusal(["--resources", "cpus:1;gpus:1"])
                #expect(noIsolator.contains("needs gpu/nvidia in --isolation"), "\(noIsolator)")
                let relativeDriver = try await refusal(Self.gpuAgentArguments(library, ["--nvidia-driver-dir", "driver"]))
                #expect(relativeDriver.contains("--nvidia-driver-dir 'driver' must be an absolute directory"), "\(relativeDriver)")
            }
        }
    }
}
