import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// Tests/Compat/pymesos_gpus.py, a framework written with pymesos 0.3.15 (unchanged), against a master and an
    /// agent offering 2 GPUs through the fake NVML. pymesos comes from scripts/install-pymesos.sh, which
    /// scripts/test.sh (CI) runs before the tests.
    @Suite("pymesos frameworks with and without GPU_RESOURCES (fake NVML)")
    struct PymesosGPUTests {
        static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Compat/pymesos_gpus.py").path

        /// Why pymesos cannot be imported by python3 here, or nil when it can.
        static func pymesosMissing() async throws -> String? {
            guard Prerequisites.which("python3") != nil else { return "no python3 (scripts/install-deps.sh installs it)" }
            let run = try await DiffCommandTests.run(["python3", "-c", "import pymesos, addict"])
            return run.status == 0 ? nil : "python3 cannot import pymesos (scripts/install-pymesos.sh installs it): \(run.stderr.suffix(200))"
        }

        @Test("With GPU_RESOURCES pymesos is offered gpus 2, launches on 1 and is offered gpus 1 next; without it, no offer from the GPU agent, and GET_FRAMEWORKS says why")
        func pymesosFrameworksSeeGPUsOnlyWithTheCapability() async throws {
            guard Prerequisites.met("the pymesos GPU check", missing: try await Self.pymesosMissing()) else { return }
            try await TestCluster().run { cluster in
                let library = try FakeNVML.build(in: cluster.scratch + "/nvml")
                try await cluster.startMaster()
                _ = try await cluster.startAgent(resources: "cpus:2;mem:512;disk:256", extraArguments: GPUResourceTests.gpuAgentArguments(library))
                let run = try await DiffCommandTests.run(["python3", Self.script, cluster.master.description, "60"])
                let passes = run.stdout.split(separator: "\n").filter { $0.hasPrefix("PASS ") }.map { $0.split(separator: " ")[1] }
                #expect(run.status == 0, "pymesos_gpus.py exited \(run.status):\n\(run.stdout)\n\(run.stderr.suffix(4000))")
                #expect(
                    passes == ["offered_gpus_2", "offered_gpus_1", "task_running", "no_offer_without_capability", "withheld_in_get_frameworks"]
                        || passes == ["offered_gpus_2", "task_running", "offered_gpus_1", "no_offer_without_capability", "withheld_in_get_frameworks"],
                    "\(run.stdout)")
            }
        }
    }
}
