import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// The README's main command, `scripts/up.sh`, builds some products and runs `.build/release/capstan up` in the
    /// checkout. This runs `capstan up` from a directory holding only the products that script builds, in a fresh
    /// checkout of the demo Manifests/ plus an app from a registry image, and waits for that app's task to run.
    @Suite("capstan up as the README runs it")
    struct UpImageTaskTests {
        static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path

        /// Every `--product NAME` that scripts/up.sh builds.
        static func upScriptProducts() throws -> [String] {
            let script = try String(contentsOfFile: repositoryRoot + "/scripts/up.sh", encoding: .utf8)
            return script.split(separator: "\n")
                .filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("swift build") }
                .compactMap { $0.firstMatch(of: /--product[ =]+([A-Za-z0-9_-]+)/).map { String($0.output.1) } }
        }

        static func imageApp(registry: String) -> String {
            """
            apiVersion: capstan/v1
            kind: App
            metadata: {name: from-image}
            spec:
              image: docker://\(registry)/busybox:test
              command: [/bin/sh, -c, "test ! -e /etc/debian_version && echo from-the-registry-image; exec /bin/busybox sleep 600"]
              resources: {cpus: 0.1, mem: 32Mi}

            """
        }

        @Test("After scripts/up.sh's builds, capstan up in a checkout runs an app from a registry image (capstan-init found beside capstan)")
        func upRunsAnAppFromAnImage() async throws {
            let what = "capstan up with an image task needs root, busybox, docker-registry, skopeo and htpasswd"
            guard Prerequisites.met(what, missing: RegistryTaskTests.prerequisitesMissing) else { return }
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-up-image-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }

            // What scripts/up.sh leaves in .build/release, copied from this build (a copy, so that capstan looks
            // beside the copy, not beside the build's own capstan-init).
            let products = try Self.upScriptProducts()
            #expect(products.contains("capstan"), "scripts/up.sh builds: \(products)")
            let built = (CapstanBinary.path as NSString).deletingLastPathComponent
            let release = scratch + "/release"
            try FileManager.default.createDirectory(atPath: release, withIntermediateDirectories: true)
            for product in products {
                let path = built + "/" + product
                guard FileManager.default.isExecutableFile(atPath: path) else {
                    throw TestFailure("scripts/up.sh builds \(product), but \(path) is not there: run `swift build --build-tests` first")
                }
                try FileManager.default.copyItem(atPath: path, toPath: release + "/" + product)
            }

            let registry = try RegistryTaskTests.Registry(in: scratch, basicAuth: false)
            defer { registry.stop() }
            try await registry.waitUntilListening()
            try RegistryTaskTests.pushBusybox(to: registry, scratch: scratch)

            let checkout = scratch + "/checkout"
            try FileManager.default.createDirectory(atPath: checkout, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: UpReconcilerTests.manifests, toPath: checkout + "/Manifests")
            try Data(Self.imageApp(registry: registry.host).utf8).write(to: URL(fileURLWithPath: checkout + "/Manifests/from-image.yaml"))
            try await ValidateCommandTests.git(checkout, "init", "-q", "-b", "main")
            try await ValidateCommandTests.git(checkout, "add", "Manifests")
            try await ValidateCommandTests.git(checkout, "commit", "-q", "-m", "demo manifests and an app from an image")

            // scripts/up.sh imports the demo's busybox image into the work dir's image store before `capstan up`.
            let demoImage = try await ValidateCommandTests.capstanOrGit([Self.repositoryRoot + "/scripts/demo-image.sh", release + "/capstan", scratch + "/wd"])
            #expect(demoImage.status == 0, "\(demoImage.output)")
            #expect(try String(contentsOfFile: Self.repositoryRoot + "/scripts/up.sh", encoding: .utf8).contains("scripts/demo-image.sh"))

            let masterFile = scratch + "/master.listen"
            let ports = (0..<8).map { _ in FreePort.next() }.sorted().map { "\($0)-\($0)" }.joined(separator: ",")
            var environment = ProcessInfo.processInfo.environment
            environment["CAPSTAN_INIT"] = nil  // found beside the binary, as after the README's command
            let up = try CapstanProcess(
                arguments: [
                    "up", "--listen", "127.0.0.1:0", "--listen-file", masterFile, "--agent-listen", "127.0.0.1:0",
                    "--reconciler-listen", "127.0.0.1:0", "--work-dir", scratch + "/wd",
                    "--resources", "cpus:2;mem:1024;disk:1024;ports:[\(ports)]", "--insecure-registry", registry.host,
                ], logPath: scratch + "/up.log", currentDirectory: checkout, executable: release + "/capstan",
                environment: environment)
            do {
                let master = try await ListenFile.address(at: masterFile, of: up)
                try await waitForHealth(master)
                let running = try await Self.waitForImageTask(master: master, timeout: .seconds(120))
                let stdout = try #require(
                    ImageTaskTests.findStdout(executor: running.taskID.value, under: scratch + "/wd/agent/slaves"),
                    "no sandbox stdout for \(running.taskID) under \(scratch)/wd/agent/slaves")
                try await eventually("the task printed from the image's rootfs", timeout: .seconds(30)) {
                    (try? String(contentsOfFile: stdout, encoding: .utf8))?.contains("from-the-registry-image") == true
                }
                await up.stop(signal: SIGINT, timeout: .seconds(20))
                #expect(up.process.terminationStatus == 0, "capstan up exits 0 on SIGINT; log:\n\(up.log.suffix(2000))")
                // "Ctrl-C stops all and kills their tasks": no task process and no mount of the work dir is left.
                let leftovers = Self.leftovers(under: scratch + "/wd")
                #expect(leftovers.isEmpty, "after capstan up stopped: \(leftovers)\n\(up.log.suffix(3000))")
                for pid in Self.processes(under: scratch + "/wd") { kill(pid, SIGKILL) }
            } catch {
                await up.stop(signal: SIGKILL)
                throw TestFailure("\(error)\n--- capstan up (last 4000 chars)\n\(up.log.suffix(4000))")
            }
        }

        /// Processes whose working directory or root lies under `directory` (a task's sandbox or rootfs).
        static func processes(under directory: String) -> [Int32] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.compactMap(Int32.init).filter { pid in
                ["cwd", "root"].contains { link in
                    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/\(link)"))?.hasPrefix(directory) == true
                }
            }
        }

        /// What a stopped `capstan up` on `directory` must not leave: its tasks' processes and its mounts (overlay
        /// rootfs, network namespace bind mounts).
        static func leftovers(under directory: String) -> [String] {
            let mounts = ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "").split(separator: "\n")
                .filter { $0.contains(directory) }.map { "mount: \($0)" }
            let processes = Self.processes(under: directory).map { pid in
                "process \(pid): " + ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").replacingOccurrences(of: "\u{0}", with: " ")
            }
            return processes + mounts
        }

        /// The task of the `from-image` app once the master has it TASK_RUNNING; a failure (e.g. capstan-init
        /// missing) is thrown at once with the task's status message.
        static func waitForImageTask(master: HostPort, timeout: Duration) async throws -> MesosTask {
            let deadline = ContinuousClock.now + timeout
            var last = "no task yet"
            while ContinuousClock.now < deadline {
                if let tasks = try? await OperatorClient(master).call(.getTasks).getTasks {
                    let mine = (tasks.tasks + tasks.completedTasks).filter { task in
                        task.labels?.labels.contains { $0.key == TaskLabel.app && $0.value == "from-image" } == true
                    }
                    if let running = mine.first(where: { $0.state == .taskRunning }) { return running }
                    if let failed = mine.first(where: { [.taskFailed, .taskError, .taskLost, .taskDropped].contains($0.state) }) {
                        throw TestFailure("\(failed.taskID) is \(failed.state): \(failed.statuses.last?.message ?? "no message")")
                    }
                    last = mine.map { "\($0.taskID) \($0.state)" }.joined(separator: ", ")
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            throw TestFailure("the from-image task did not reach TASK_RUNNING in \(timeout): \(last)")
        }
    }
}
