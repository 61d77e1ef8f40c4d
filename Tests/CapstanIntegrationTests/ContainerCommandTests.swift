import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// `capstan container run` and `capstan image prune` as a person uses them: the real binary, one process per
    /// command, output read from log files.
    @Suite("capstan container run", .serialized)
    struct ContainerCommandTests {
        /// Runs the binary to its exit (polling, so no cooperative thread blocks) and returns status and output.
        static func capstan(_ arguments: [String], in scratch: String, timeout: Duration = .seconds(60)) async throws -> (status: Int32, output: String) {
            let process = try CapstanProcess(arguments: arguments, logPath: scratch + "/cmd-\(UUID().uuidString.prefix(8)).log")
            let deadline = ContinuousClock.now + timeout
            while process.isRunning {
                if ContinuousClock.now > deadline {
                    await process.stop(signal: SIGKILL)
                    throw TestFailure("capstan \(arguments.joined(separator: " ")) did not exit within \(timeout): \(process.log)")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            return (process.process.terminationStatus, process.log)
        }

        /// Skips (or fails under CAPSTAN_TEST_STRICT=1) without root and busybox; otherwise a work dir whose image
        /// store holds busybox:e2e.
        static func withBusyboxWorkDir(_ body: (_ work: String, _ scratch: String) async throws -> Void) async throws {
            guard Prerequisites.met("capstan container run needs root and busybox", missing: ImageTaskTests.prerequisitesMissing) else { return }
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-ctr-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let work = scratch + "/work"
            try ImageTaskTests.importBusybox(agentWorkDir: work, scratch: scratch)
            try await body(work, scratch)
        }

        @Test("capstan container run takes capstan image pull's registry flags: --insecure-registry pulls over plain HTTP")
        func containerRunTakesRegistryFlags() async throws {
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-ctr-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            // Port 1 on loopback: nothing listens, so the pull fails at once, naming the URL it tried.
            let insecure = try await Self.capstan(
                ["container", "run", "--rm", "--work-dir", scratch + "/work", "--insecure-registry", "127.0.0.1:1",
                    "docker://127.0.0.1:1/nothing:1", "--", "true"], in: scratch)
            #expect(insecure.status == 125)
            #expect(insecure.output.contains("http://127.0.0.1:1/v2/"), "\(insecure.output)")
            let secure = try await Self.capstan(
                ["container", "run", "--rm", "--work-dir", scratch + "/work", "docker://127.0.0.1:1/nothing:1", "--", "true"], in: scratch)
            #expect(secure.status == 125)
            #expect(secure.output.contains("https://127.0.0.1:1/v2/"), "\(secure.output)")
        }

        static func layerDirectories(_ work: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: work + "/images/layers")) ?? []).filter { !$0.hasPrefix(".") }
        }

        @Test("container run: own rootfs, hostname and PID 1; the command's exit status; a missing image exits 125")
        func runsACommandFromAnImage() async throws {
            try await Self.withBusyboxWorkDir { work, scratch in
                let ran = try await Self.capstan(
                    ["container", "run", "--rm", "--work-dir", work, "--hostname", "boxed", "busybox:e2e", "--",
                     "sh", "-c", "test ! -e /etc/debian_version && echo rootfs-ok; hostname; echo pid=$$; echo sandbox=$MESOS_SANDBOX"],
                    in: scratch)
                #expect(ran.status == 0, "\(ran.output)")
                #expect(ran.output.contains("rootfs-ok"), "\(ran.output)")
                #expect(ran.output.contains("boxed\n"), "\(ran.output)")
                #expect(ran.output.contains("pid=2") || ran.output.contains("pid=1"), "the shell is PID 1's child or PID 1: \(ran.output)")
                #expect(ran.output.contains("sandbox=/mnt/mesos/sandbox"), "\(ran.output)")
                // --rm: no sandbox left behind.
                let sandboxes = (try? FileManager.default.contentsOfDirectory(atPath: work + "/sandboxes")) ?? []
                #expect(sandboxes.isEmpty, "\(sandboxes)")

                let failed = try await Self.capstan(["container", "run", "--rm", "--work-dir", work, "busybox:e2e", "--", "sh", "-c", "exit 7"], in: scratch)
                #expect(failed.status == 7, "\(failed.output)")

                let missing = try await Self.capstan(["container", "run", "--rm", "--work-dir", work, "oci:\(scratch)/no-such-layout", "--", "true"], in: scratch)
                #expect(missing.status == 125, "\(missing.output)")
                #expect(missing.output.contains("no-such-layout"), "the error names the image: \(missing.output)")
            }
        }

        @Test("container run -v: the agent's volume code — HOST:CONTAINER:ro is EROFS for the container, a read-write one lands on the host, a path with '..' exits 125 naming it")
        func volumes() async throws {
            try await Self.withBusyboxWorkDir { work, scratch in
                let ro = scratch + "/ro", rw = scratch + "/rw"
                for directory in [ro, rw] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
                try "kept\n".write(toFile: ro + "/file", atomically: true, encoding: .utf8)
                let ran = try await Self.capstan(
                    ["container", "run", "--rm", "--work-dir", work, "-v", "\(ro):/ro:ro", "-v", "\(rw):/rw", "busybox:e2e", "--",
                     "sh", "-c", "cat /ro/file; echo x > /ro/new; echo written > /rw/out"],
                    in: scratch)
                #expect(ran.status == 0, "\(ran.output)")
                #expect(ran.output.contains("kept") && ran.output.contains("Read-only file system"), "\(ran.output)")
                #expect(!FileManager.default.fileExists(atPath: ro + "/new"))
                #expect((try? String(contentsOfFile: rw + "/out", encoding: .utf8)) == "written\n")
                let climbing = try await Self.capstan(
                    ["container", "run", "--rm", "--work-dir", work, "-v", "\(ro)/../rw:/rw", "busybox:e2e", "--", "true"], in: scratch)
                #expect(climbing.status == 125 && climbing.output.contains("contains '..'"), "\(climbing.output)")
            }
        }

        @Test("image prune keeps the layers of a running container after its image was removed, and removes them once it ends")
        func pruneKeepsLayersARunningContainerUses() async throws {
            try await Self.withBusyboxWorkDir { work, scratch in
                let gate = scratch + "/gate"
                try FileManager.default.createDirectory(atPath: gate, withIntermediateDirectories: true)
                let container = try CapstanProcess(
                    arguments: ["container", "run", "--rm", "--work-dir", work, "-v", "\(gate):/gate", "busybox:e2e", "--",
                                "sh", "-c", "echo started > /gate/started; while ! test -e /gate/go; do busybox sleep 0.05; done; cat /bin/busybox > /dev/null && echo read-ok"],
                    logPath: scratch + "/container.log")
                let deadline = ContinuousClock.now + .seconds(30)
                while !FileManager.default.fileExists(atPath: gate + "/started") {
                    guard container.isRunning, ContinuousClock.now < deadline else {
                        throw TestFailure("the container did not start: \(container.log)")
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                let layers = Self.layerDirectories(work)
                #expect(layers.count == 1, "\(layers)")
                let users = try FileManager.default.contentsOfDirectory(atPath: work + "/images/users")
                #expect(users.count == 1, "one container records its layers: \(users)")

                let removed = try await Self.capstan(["image", "rm", "busybox:e2e", "--work-dir", work], in: scratch)
                #expect(removed.status == 0, "\(removed.output)")
                let pruned = try await Self.capstan(["image", "prune", "--work-dir", work], in: scratch)
                #expect(pruned.status == 0, "\(pruned.output)")
                #expect(Self.layerDirectories(work) == layers, "the running container's layer stays: \(pruned.output)")

                FileManager.default.createFile(atPath: gate + "/go", contents: nil)
                while container.isRunning {
                    guard ContinuousClock.now < deadline + .seconds(30) else { throw TestFailure("the container did not end: \(container.log)") }
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(container.process.terminationStatus == 0, "\(container.log)")
                #expect(container.log.contains("read-ok"), "\(container.log)")
                #expect(((try? FileManager.default.contentsOfDirectory(atPath: work + "/images/users")) ?? []).isEmpty)

                let after = try await Self.capstan(["image", "prune", "--work-dir", work], in: scratch)
                #expect(after.status == 0, "\(after.output)")
                #expect(Self.layerDirectories(work).isEmpty, "nothing uses the layer now: \(after.output)")
            }
        }
    }
}
