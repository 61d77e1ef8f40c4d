import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc
import Testing

extension EndToEnd.GPUDriverVolumeTests {
    /// Whether this machine has the NVIDIA driver: `/dev/nvidiactl`, a loadable `libnvidia-ml.so.1` and `nvidia-smi`.
    static func realDriverPresent() -> Bool {
        guard FileManager.default.fileExists(atPath: "/dev/nvidiactl"), Prerequisites.which("nvidia-smi") != nil,
            let handle = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL)
        else { return false }
        dlclose(handle)
        return true
    }

    /// The absolute paths `ldd` names for `file` (its libraries and the dynamic loader).
    static func sharedLibraries(of file: String) -> [String] {
        HostCommand.output("/usr/bin/ldd", [file]).split(separator: "\n").compactMap { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if let arrow = words.firstIndex(of: "=>"), arrow + 1 < words.count, words[arrow + 1].hasPrefix("/") { return String(words[arrow + 1]) }
            if let first = words.first, first.hasPrefix("/") { return String(first) }
            return nil
        }
    }

    /// The busybox rootfs plus the C libraries the driver's nvidia-smi and NVML need, at their host paths, imported as
    /// busybox:cuda: labelled for the driver volume, with PATH and LD_LIBRARY_PATH through it (as CUDA images set them;
    /// LD_LIBRARY_PATH also names the C libraries' directories, as the image has no ld.so.cache).
    static func importCudaLikeImage(agentWorkDir: String, scratch: String) throws {
        let root = scratch + "/rootfs-cuda"
        try EndToEnd.ImageTaskTests.run("/bin/cp", ["-a", scratch + "/rootfs", root])
        let smi = try #require(Prerequisites.which("nvidia-smi"))
        let cache = HostCommand.output("/sbin/ldconfig", ["-p"])
        let nvml = cache.split(separator: "\n").first { $0.contains("libnvidia-ml.so.1 (") && $0.contains("64") }
            .flatMap { $0.components(separatedBy: " => ").last }.map { $0.trimmingCharacters(in: .whitespaces) }
        var libraries = sharedLibraries(of: smi)
        if let nvml { libraries += sharedLibraries(of: nvml) }
        var directories: [String] = []
        for library in Set(libraries) where !library.contains("libnvidia") && !library.contains("libcuda") {
            let target = root + library
            let directory = (library as NSString).deletingLastPathComponent
            if !directories.contains(directory) { directories.append(directory) }
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try EndToEnd.ImageTaskTests.run("/bin/cp", ["-L", library, target])
        }
        try EndToEnd.ImageTaskTests.run("/bin/tar", ["-C", root, "-cf", scratch + "/rootfs-cuda.tar", "."])
        try EndToEnd.ImageTaskTests.run(
            CapstanBinary.path,
            [
                "image", "import", scratch + "/rootfs-cuda.tar", "busybox:cuda", "--label", "com.nvidia.volumes.needed=nvidia_driver",
                "--env", "PATH=/usr/local/nvidia/bin:/bin", "--env", "LD_LIBRARY_PATH=" + (["/usr/local/nvidia/lib64"] + directories.sorted()).joined(separator: ":"), "--work-dir", agentWorkDir,
            ])
    }

    @Test("With the real NVIDIA driver, nvidia-smi -L in an image task given one GPU lists exactly that GPU")
    func realDriverShowsOnlyTheGrantedGPU() async throws {
        guard Self.realDriverPresent() else {
            print("no NVIDIA driver on this machine")
            return
        }
        guard Prerequisites.met("tasks from images need root and busybox", missing: EndToEnd.ImageTaskTests.prerequisitesMissing) else { return }
        guard EndToEnd.GPUIsolationTests.devicesControllerPresent() else { return }
        try await TestCluster().run { cluster in
            try await cluster.startMaster()
            let workDir = cluster.scratch + "/agent-real-gpu"
            try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
            try EndToEnd.ImageTaskTests.importBusybox(agentWorkDir: workDir, scratch: cluster.scratch)
            try Self.importCudaLikeImage(agentWorkDir: workDir, scratch: cluster.scratch)
            // No CDI spec directory: the driver volume, not a CDI spec the machine may have, gives nvidia-smi.
            _ = try await cluster.startAgent(
                resources: "cpus:2;mem:1024;disk:1024", workDir: workDir,
                extraArguments: ["--isolation", "gpu/nvidia", "--cdi-spec-dirs", cluster.scratch + "/no-cdi"])
            let scheduler = try await EventRecorder.subscribe(cluster.master, name: "real-gpu", capabilities: [.init(type: .gpuResources)])
            let offer = try #require(try await scheduler.nextOffers().first)
            var task = TestTasks.command("smi", "nvidia-smi -L", agent: offer.agentID)
            task.resources = Resources([.scalar("cpus", 0.1), .scalar("mem", 64), .scalar("gpus", 1)]).mesos
            task.container = EndToEnd.ImageTaskTests.busyboxContainer(image: "busybox:cuda")
            try await scheduler.launch([task], on: [offer], refuseSeconds: 0)
            let running = try await scheduler.update("smi", .taskRunning, timeout: .seconds(30))
            let granted = try #require(running.labels?.labels.first { $0.key == "capstan.gpus" }?.value)
            try await scheduler.update("smi", .taskFinished, timeout: .seconds(60))
            let stdout = try #require(EndToEnd.ImageTaskTests.findStdout(executor: "smi", under: workDir + "/slaves"))
            let text = try String(contentsOfFile: stdout, encoding: .utf8)
            let gpus = text.split(separator: "\n").filter { $0.hasPrefix("GPU ") }
            #expect(gpus.count == 1, "exactly one GPU is visible: \(text)")
            #expect(gpus.first?.contains("(UUID: \(granted))") == true, "the granted GPU \(granted): \(text)")
            await scheduler.disconnect()
        }
    }
}
