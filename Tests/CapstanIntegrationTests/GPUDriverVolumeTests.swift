import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc
import Testing

extension EndToEnd {
    /// `gpu/nvidia`'s driver files in image containers: the driver volume at /usr/local/nvidia (fake driver: the fake
    /// NVML and a fake nvidia-smi), the NVIDIA CDI spec's edits instead of it, and, on a machine with the real driver,
    /// `nvidia-smi -L` seeing only the granted GPU.
    @Suite("The NVIDIA driver volume and CDI spec in image containers")
    struct GPUDriverVolumeTests {
        /// A driver root for `--nvidia-driver-dir`: the fake NVML as lib64/libnvidia-ml.so.1 and a bin/nvidia-smi
        /// script. Returns the NVML library's path.
        static func fakeDriver(_ root: String) throws -> String {
            let library = try FakeNVML.build(in: root + "/lib64")
            try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
            try "#!/bin/sh\necho \"fake nvidia-smi $*\"\n".write(toFile: root + "/bin/nvidia-smi", atomically: true, encoding: .utf8)
            _ = chmod(root + "/bin/nvidia-smi", 0o755)
            return library
        }

        /// Imports the busybox rootfs again as busybox:nvidia, labelled to ask for the driver volume.
        static func importLabelled(agentWorkDir: String, scratch: String, extra: [String] = []) throws {
            try ImageTaskTests.run(
                CapstanBinary.path,
                ["image", "import", scratch + "/rootfs.tar", "busybox:nvidia", "--label", "com.nvidia.volumes.needed=nvidia_driver", "--work-dir", agentWorkDir]
                    + extra)
        }

        /// Launches `command` from `image` with one GPU on the next offer and returns what it printed.
        static func run(_ name: String, _ command: String, image: String, scheduler: EventRecorder, workDir: String) async throws -> String {
            var offer = try #require(try await scheduler.nextOffers().first)
            for _ in 0..<5 where try Resources(mesos: offer.resources).gpus < 1 {
                offer = try #require(try await scheduler.nextOffers().first)
            }
            var task = TestTasks.command(name, command, agent: offer.agentID)
            task.resources = Resources([.scalar("cpus", 0.1), .scalar("mem", 32), .scalar("gpus", 1)]).mesos
            task.container = ImageTaskTests.busyboxContainer(image: image)
            try await scheduler.launch([task], on: [offer], refuseSeconds: 0)
            try await scheduler.update(TaskID(name), .taskFinished, timeout: .seconds(30))
            let stdout = try #require(ImageTaskTests.findStdout(executor: name, under: workDir + "/slaves"))
            return try String(contentsOfFile: stdout, encoding: .utf8)
        }

        @Test("An image labelled com.nvidia.volumes.needed=nvidia_driver with gpus:1 sees the driver read-only at /usr/local/nvidia; an unlabelled one does not")
        func labelledImageGetsTheDriverVolume() async throws {
            guard Prerequisites.met("tasks from images need root and busybox", missing: ImageTaskTests.prerequisitesMissing) else { return }
            guard GPUIsolationTests.devicesControllerPresent() else { return }
            try await TestCluster().run { cluster in
                let driver = cluster.scratch + "/driver"
                let library = try Self.fakeDriver(driver)
                try await cluster.startMaster()
                let workDir = cluster.scratch + "/agent-driver"
                try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
                try ImageTaskTests.importBusybox(agentWorkDir: workDir, scratch: cluster.scratch)
                try Self.importLabelled(agentWorkDir: workDir, scratch: cluster.scratch)
                _ = try await cluster.startAgent(
                    resources: "cpus:2;mem:512;disk:256", workDir: workDir,
                    extraArguments: GPUResourceTests.gpuAgentArguments(library, ["--nvidia-driver-dir", driver, "--cdi-spec-dirs", cluster.scratch + "/no-cdi"]))
                #expect(FileManager.default.fileExists(atPath: workDir + "/gpu/nvidia-driver-999.99-fake/lib64/libnvidia-ml.so.1"))
                let scheduler = try await EventRecorder.subscribe(cluster.master, name: "driver", capabilities: [.init(type: .gpuResources)])

                let probe = """
                    test -e /usr/local/nvidia/lib64/libnvidia-ml.so.1 && echo nvml: present; \
                    echo "smi: $(/usr/local/nvidia/bin/nvidia-smi -L)"; \
                    echo "write: $( (echo x > /usr/local/nvidia/bin/intruder) 2>&1)"; \
                    echo "lib64: $(ls /usr/local/nvidia/lib64 | tr '\\n' ' ')"
                    """
                let text = try await Self.run("labelled", probe, image: "busybox:nvidia", scheduler: scheduler, workDir: workDir)
                #expect(text.contains("nvml: present"), "\(text)")
                #expect(text.contains("smi: fake nvidia-smi -L"), "the driver's nvidia-smi runs from the volume: \(text)")
                #expect(GPUIsolationTests.line("write", in: text).contains("Read-only file system"), "the volume is read-only: \(text)")
                #expect(GPUIsolationTests.line("lib64", in: text) == "lib64: libnvidia-ml.so.1 ", "only the driver's libraries: \(text)")
                #expect(!FileManager.default.fileExists(atPath: workDir + "/gpu/nvidia-driver-999.99-fake/bin/intruder"))

                let plain = try await Self.run(
                    "unlabelled", "test -e /usr/local/nvidia && echo volume: yes || echo volume: no", image: "busybox:e2e", scheduler: scheduler,
                    workDir: workDir)
                #expect(plain.contains("volume: no"), "an image that does not ask gets no volume: \(plain)")
                await scheduler.disconnect()
            }
        }

        @Test("With an NVIDIA CDI spec, the task gets its GPU's CDI node, mount and environment instead of /usr/local/nvidia")
        func cdiSpecReplacesTheVolume() async throws {
            guard Prerequisites.met("tasks from images need root and busybox", missing: ImageTaskTests.prerequisitesMissing) else { return }
            guard GPUIsolationTests.devicesControllerPresent() else { return }
            try await TestCluster().run { cluster in
                let driver = cluster.scratch + "/driver"
                let library = try Self.fakeDriver(driver)
                let specs = cluster.scratch + "/cdi"
                let shared = cluster.scratch + "/cdi-lib"
                try FileManager.default.createDirectory(atPath: specs, withIntermediateDirectories: true)
                try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
                try "from the spec\n".write(toFile: shared + "/marker", atomically: true, encoding: .utf8)
                try """
                    cdiVersion: 0.5.0
                    kind: nvidia.com/gpu
                    devices:
                      - name: "0"
                        containerEdits:
                          env: [CDI_GPU=zero]
                          deviceNodes: [{path: /dev/cdi-gpu0, type: c, major: 1, minor: 7}]
                          mounts: [{hostPath: \(shared), containerPath: /opt/cdi-lib, options: [ro, bind]}]
                    """.write(toFile: specs + "/nvidia.yaml", atomically: true, encoding: .utf8)
                try await cluster.startMaster()
                let workDir = cluster.scratch + "/agent-cdi"
                try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
                try ImageTaskTests.importBusybox(agentWorkDir: workDir, scratch: cluster.scratch)
                try Self.importLabelled(agentWorkDir: workDir, scratch: cluster.scratch)
                _ = try await cluster.startAgent(
                    resources: "cpus:2;mem:512;disk:256", workDir: workDir,
                    extraArguments: GPUResourceTests.gpuAgentArguments(library, ["--nvidia-driver-dir", driver, "--cdi-spec-dirs", specs]))
                let scheduler = try await EventRecorder.subscribe(cluster.master, name: "cdi-gpu", capabilities: [.init(type: .gpuResources)])
                let probe = """
                    echo "node: $(stat -c '%t:%T' /dev/cdi-gpu0 2>&1)"; echo "env: $CDI_GPU"; echo "mount: $(cat /opt/cdi-lib/marker 2>&1)"; \
                    test -e /usr/local/nvidia && echo volume: yes || echo volume: no; echo "nodes: $(ls /dev | grep nvidia | tr '\\n' ' ')"
                    """
                let text = try await Self.run("cdi", probe, image: "busybox:nvidia", scheduler: scheduler, workDir: workDir)
                #expect(GPUIsolationTests.line("node", in: text) == "node: 1:7", "the spec's node: \(text)")
                #expect(text.contains("env: zero"), "the spec's environment: \(text)")
                #expect(text.contains("mount: from the spec"), "the spec's mount: \(text)")
                #expect(text.contains("volume: no"), "no driver volume beside the spec: \(text)")
                #expect(text.contains("nodes: nvidia0 nvidiactl \n"), "the GPU's own nodes stay: \(text)")
                #expect(!FileManager.default.fileExists(atPath: workDir + "/gpu"), "no driver volume made")
                await scheduler.disconnect()
            }
        }
    }
}
