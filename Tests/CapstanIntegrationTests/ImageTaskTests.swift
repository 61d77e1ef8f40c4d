import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    @Suite("Tasks from images")
    struct ImageTaskTests {
        /// A busybox rootfs tarball (Debian's busybox-static) imported into the agent's image store with the CLI.
        static func importBusybox(agentWorkDir: String, scratch: String) throws {
            let root = scratch + "/rootfs"
            try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: root + "/bin/busybox")
            for applet in ["sh", "cat", "hostname", "test", "echo", "ls", "tr", "tail"] {
                try FileManager.default.createSymbolicLink(atPath: root + "/bin/\(applet)", withDestinationPath: "busybox")
            }
            try Data("root:x:0:0:root:/root:/bin/sh\n".utf8).write(to: URL(fileURLWithPath: root + "/etc/passwd"))
            try run("/bin/tar", ["-C", root, "-cf", scratch + "/rootfs.tar", "."])
            try run(CapstanBinary.path, ["image", "import", scratch + "/rootfs.tar", "busybox:e2e", "--work-dir", agentWorkDir])
        }

        static func run(_ path: String, _ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw TestFailure("\(path) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
            }
        }

        static var prerequisitesMissing: String? {
            if geteuid() != 0 { return "not root" }
            if !FileManager.default.isExecutableFile(atPath: "/bin/busybox") { return "no /bin/busybox (Debian busybox-static)" }
            return nil
        }

        /// Skips (or fails under CAPSTAN_TEST_STRICT=1) without root and busybox; otherwise starts a master and an
        /// agent whose image store holds busybox:e2e, subscribes a scheduler and hands it the first offer.
        static func withImageAgent(
            _ name: String, _ body: (_ scheduler: EventRecorder, _ offer: Offer, _ agentWorkDir: String) async throws -> Void
        ) async throws {
            if let missing = prerequisitesMissing {
                if ProcessInfo.processInfo.environment["CAPSTAN_TEST_STRICT"] == "1" { Issue.record("prerequisite missing: \(missing)") }
                print("SKIPPED: tasks from images need root and busybox: \(missing)")
                return
            }
            try await TestCluster().run { cluster in
                try await cluster.startMaster()
                let workDir = cluster.scratch + "/agent-\(name)"
                try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
                try importBusybox(agentWorkDir: workDir, scratch: cluster.scratch)
                try await cluster.startAgent(workDir: workDir)
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await body(scheduler, offer, workDir)
                await scheduler.disconnect()
            }
        }

        /// The busybox image as a task's ContainerInfo (type MESOS, DOCKER image).
        static func busyboxContainer(hostname: String? = nil) -> ContainerInfo {
            var container = ContainerInfo(type: .mesos)
            container.mesos = .init(image: Image(type: .docker, docker: .init(name: "busybox:e2e")))
            container.hostname = hostname
            return container
        }

        @Test("A task naming an image runs from the image's rootfs in its own PID and UTS namespaces, through the master")
        func taskRunsFromImage() async throws {
            try await Self.withImageAgent("image") { scheduler, offer, workDir in
                var task = TestTasks.command(
                    "boxed",
                    "test ! -e /etc/debian_version && echo rootfs-ok; hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo; echo sandbox=$MESOS_SANDBOX; ls /mnt/mesos/sandbox",
                    agent: offer.agentID)
                task.container = Self.busyboxContainer(hostname: "boxed-host")
                try await scheduler.launch([task], on: [offer])
                try await scheduler.update("boxed", .taskRunning, timeout: .seconds(20))
                try await scheduler.update("boxed", .taskFinished, timeout: .seconds(20))

                let stdout = try #require(Self.findStdout(executor: "boxed", under: workDir + "/slaves"))
                let text = try String(contentsOfFile: stdout, encoding: .utf8)
                #expect(text.contains("rootfs-ok"), "the task sees the image's rootfs, not the host's: \(text)")
                #expect(text.contains("boxed-host"), "its own hostname: \(text)")
                #expect(text.contains("capstan-init"), "PID 1 is the container's init, not the host's: \(text)")
                #expect(text.contains("sandbox=/mnt/mesos/sandbox"), "\(text)")
                #expect(text.contains("stdout"), "the sandbox is mounted at /mnt/mesos/sandbox: \(text)")
            }
        }

        @Test("A memory hog from an image is OOM-killed and reported TASK_FAILED with REASON_CONTAINER_LIMITATION_MEMORY")
        func memoryHogReportsMemoryLimitation() async throws {
            try await Self.withImageAgent("oom") { scheduler, offer, _ in
                var task = TestTasks.command("hog", "tail /dev/zero", agent: offer.agentID, mem: 32)
                task.container = Self.busyboxContainer()
                try await scheduler.launch([task], on: [offer])
                let failed = try await scheduler.update("hog", .taskFailed, timeout: .seconds(30))
                #expect(failed.reason == .reasonContainerLimitationMemory, "\(failed)")
            }
        }

        static func findStdout(executor: String, under root: String) -> String? {
            guard let enumerator = FileManager.default.enumerator(atPath: root) else { return nil }
            for case let path as String in enumerator where path.contains("/executors/\(executor)/runs/") && path.hasSuffix("/stdout") {
                return root + "/" + path
            }
            return nil
        }
    }
}
