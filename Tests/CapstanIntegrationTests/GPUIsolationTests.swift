import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// `gpu/nvidia`'s isolation with the fake NVML: a task given one GPU opens that GPU's node (ENXIO: no driver behind
    /// it, but the devices cgroup let it through) and is refused the other (EPERM from the cgroup).
    @Suite("GPUs isolated by gpu/nvidia (fake NVML, devices cgroup)")
    struct GPUIsolationTests {
        /// What the task prints: its /dev's NVIDIA nodes, then what opening its own GPU and the other GPU gives.
        static let probe = """
            echo "nodes: $(ls /dev | grep nvidia | tr '\\n' ' ')"; \
            busybox mknod /dev/probe-other c 195 1; \
            echo "own: $(cat /dev/nvidia0 2>&1)"; echo "other: $(cat /dev/probe-other 2>&1)"
            """

        /// The line the probe printed after `<name>: `, or "" when it printed none.
        /// Whether the cgroup v1 devices controller is mounted; when not, prints why the test skips (and fails it
        /// under CAPSTAN_TEST_STRICT, as CI runs).
        static func devicesControllerPresent() -> Bool {
            let present = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/devices/devices.allow")
            return Prerequisites.met(
                "gpu/nvidia's isolation", missing: present ? nil : "no cgroup v1 devices controller at /sys/fs/cgroup/devices")
        }

        static func line(_ name: String, in text: String) -> String {
            text.split(separator: "\n").first { $0.hasPrefix("\(name): ") }.map(String.init) ?? ""
        }

        @Test("A task from an image given gpus:1 sees /dev/nvidia0 and nvidiactl, opens its GPU (ENXIO) but not the other (EPERM), and its status names the GPU")
        func imageTaskOpensOnlyItsGPU() async throws {
            guard Prerequisites.met("tasks from images need root and busybox", missing: ImageTaskTests.prerequisitesMissing) else { return }
            guard GPUIsolationTests.devicesControllerPresent() else { return }
            try await TestCluster().run { cluster in
                let library = try FakeNVML.build(in: cluster.scratch + "/nvml")
                try await cluster.startMaster()
                let workDir = cluster.scratch + "/agent-gpu"
                try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
                try ImageTaskTests.importBusybox(agentWorkDir: workDir, scratch: cluster.scratch)
                _ = try await cluster.startAgent(
                    resources: "cpus:2;mem:512;disk:256", workDir: workDir, extraArguments: GPUResourceTests.gpuAgentArguments(library))
                let scheduler = try await EventRecorder.subscribe(cluster.master, name: "gpu-probe", capabilities: [.init(type: .gpuResources)])
                let offer = try #require(try await scheduler.nextOffers().first)
                var task = TestTasks.command("probe", Self.probe, agent: offer.agentID)
                task.resources = Resources([.scalar("cpus", 0.1), .scalar("mem", 32), .scalar("gpus", 1)]).mesos
                task.container = ImageTaskTests.busyboxContainer()
                try await scheduler.launch([task], on: [offer], refuseSeconds: 0)
                let running = try await scheduler.update("probe", .taskRunning, timeout: .seconds(20))
                let label = running.labels?.labels.first { $0.key == "capstan.gpus" }
                #expect(label?.value == "GPU-fake-0", "the status names the GPU granted: \(String(describing: running.labels))")
                try await scheduler.update("probe", .taskFinished, timeout: .seconds(20))

                let stdout = try #require(ImageTaskTests.findStdout(executor: "probe", under: workDir + "/slaves"))
                let text = try String(contentsOfFile: stdout, encoding: .utf8)
                #expect(text.contains("nodes: nvidia0 nvidiactl \n"), "only its own GPU's node and nvidiactl: \(text)")
                #expect(text.contains("own: cat: can't open '/dev/nvidia0': No such device or address"), "the cgroup lets its GPU through: \(text)")
                #expect(text.contains("other: cat: can't open '/dev/probe-other': Operation not permitted"), "the cgroup refuses the other GPU: \(text)")
                await scheduler.disconnect()
            }
        }

        @Test("A command task without an image shares the host's /dev: the devices cgroup alone lets it open its GPU and not the other")
        func commandTaskIsHeldByTheCgroup() async throws {
            guard Prerequisites.met("the devices cgroup needs root", missing: Prerequisites.missing([.root("cgroups need it")])) else { return }
            guard GPUIsolationTests.devicesControllerPresent() else { return }
            try await TestCluster().run { cluster in
                let library = try FakeNVML.build(in: cluster.scratch + "/nvml")
                try await cluster.startMaster()
                _ = try await cluster.startAgent(resources: "cpus:2;mem:512;disk:256", extraArguments: GPUResourceTests.gpuAgentArguments(library))
                let scheduler = try await EventRecorder.subscribe(cluster.master, name: "gpu-plain", capabilities: [.init(type: .gpuResources)])
                let offer = try #require(try await scheduler.nextOffers().first)
                // Nodes made in the sandbox (the host has no NVIDIA driver): 195:0 is the task's GPU, 195:1 the other.
                let probe = """
                    mknod "$MESOS_SANDBOX/own" c 195 0; mknod "$MESOS_SANDBOX/other" c 195 1; \
                    echo "own: $(cat "$MESOS_SANDBOX/own" 2>&1)"; echo "other: $(cat "$MESOS_SANDBOX/other" 2>&1)"
                    """
                var task = TestTasks.command("plain", probe, agent: offer.agentID)
                task.resources = Resources([.scalar("cpus", 0.1), .scalar("mem", 32), .scalar("gpus", 2)]).mesos
                try await scheduler.launch([task], on: [offer], refuseSeconds: 0)
                let running = try await scheduler.update("plain", .taskRunning, timeout: .seconds(20))
                #expect(running.labels?.labels.first { $0.key == "capstan.gpus" }?.value == "GPU-fake-0,GPU-fake-1")
                try await scheduler.update("plain", .taskFinished, timeout: .seconds(20))
                let stdout = try #require(ImageTaskTests.findStdout(executor: "plain", under: cluster.scratch))
                let text = try String(contentsOfFile: stdout, encoding: .utf8)
                #expect(Self.line("own", in: text).contains("No such device or address"), "its GPUs pass the cgroup: \(text)")
                #expect(Self.line("other", in: text).contains("No such device or address"), "with both GPUs, neither is refused: \(text)")

                // A second task, with one GPU: GPU 0 again (freed when the first ended), and GPU 1 refused.
                // Offers of what the first task left (no GPUs) may come first; the GPUs come back once it has ended.
                var next = try #require(try await scheduler.nextOffers().first)
                for _ in 0..<5 where try Resources(mesos: next.resources).gpus < 2 {
                    next = try #require(try await scheduler.nextOffers().first)
                }
                #expect(try Resources(mesos: next.resources).gpus == 2, "both GPUs are free again")
                var second = TestTasks.command("plain-1", probe, agent: next.agentID)
                second.resources = Resources([.scalar("cpus", 0.1), .scalar("mem", 32), .scalar("gpus", 1)]).mesos
                try await scheduler.launch([second], on: [next], refuseSeconds: 0)
                try await scheduler.update("plain-1", .taskFinished, timeout: .seconds(20))
                let secondOut = try #require(ImageTaskTests.findStdout(executor: "plain-1", under: cluster.scratch))
                let secondText = try String(contentsOfFile: secondOut, encoding: .utf8)
                #expect(Self.line("own", in: secondText).contains("No such device or address"), "its GPU passes: \(secondText)")
                #expect(Self.line("other", in: secondText).contains("Operation not permitted"), "the other GPU is refused: \(secondText)")
                await scheduler.disconnect()
            }
        }
    }
}
