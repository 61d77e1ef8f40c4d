import CapstanAPI
import CapstanCore
import CapstanReconciler
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// `capstan up` with no flags but ports in a git checkout: the reconciler follows the checkout's Manifests/ and
    /// deploys the repository's own demo set, as it would on a fresh machine.
    @Suite("capstan up with the reconciler")
    struct UpReconcilerTests {
        /// The repository's Manifests/ directory.
        static let manifests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Manifests").path

        @Test("capstan up in a checkout deploys every app in Manifests/ (apps running, the job finished); SIGINT stops it")
        func upDeploysManifests() async throws {
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-up-gitops-\(UUID().uuidString.prefix(8))").path
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let checkout = scratch + "/checkout"
            try FileManager.default.createDirectory(atPath: checkout, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Self.manifests, toPath: checkout + "/Manifests")
            try await ValidateCommandTests.git(checkout, "init", "-q", "-b", "main")
            try await ValidateCommandTests.git(checkout, "add", "Manifests")
            try await ValidateCommandTests.git(checkout, "commit", "-q", "-m", "demo manifests")

            // What the demo set holds, from `capstan validate`'s summary ("valid: 2 apps, 1 job").
            let validate = try await ValidateCommandTests.capstan(["validate", checkout + "/Manifests"])
            #expect(validate.status == 0, "\(validate.output)")
            let (appCount, jobCount) = try #require(Self.counts(validate.output), "no summary in: \(validate.output)")
            #expect(appCount > 0)

            // The demo's image app needs what scripts/up.sh does before `capstan up`: the busybox image in the work
            // dir's one image store.
            let demoImage = try await ValidateCommandTests.capstanOrGit(
                [UpImageTaskTests.repositoryRoot + "/scripts/demo-image.sh", CapstanBinary.path, scratch + "/wd"])
            #expect(demoImage.status == 0, "\(demoImage.output)")

            // The tasks' port range: ports the kernel says are free now, rather than a fixed range other tests may be using.
            let ports = (0..<8).map { _ in FreePort.next() }.sorted().map { "\($0)-\($0)" }.joined(separator: ",")
            let (masterFile, apiFile) = (scratch + "/master.listen", scratch + "/reconciler.listen")
            let up = try CapstanProcess(
                arguments: [
                    "up", "--listen", "127.0.0.1:0", "--listen-file", masterFile, "--agent-listen", "127.0.0.1:0",
                    "--reconciler-listen", "127.0.0.1:0", "--reconciler-listen-file", apiFile, "--work-dir", scratch + "/wd",
                    "--resources", "cpus:2;mem:1024;disk:1024;ports:[\(ports)]",
                ], logPath: scratch + "/up.log", currentDirectory: checkout)
            do {
                let master = try await ListenFile.address(at: masterFile, of: up)
                let api = try await ListenFile.address(at: apiFile, of: up)
                try await waitForHealth(master)
                // Before its first sync the reconciler lists no apps, which `capstan status` counts as converged:
                // wait for the demo set's apps to be listed too.
                try await eventually("capstan status exits 0 with every app Synced", timeout: .seconds(60), interval: .milliseconds(250)) {
                    let listed = try await ReconcilerClient(baseURL: "http://\(api)").status().apps.count
                    guard listed == appCount + jobCount else { return false }
                    return try await ValidateCommandTests.capstan(["status", "--master", master.description]).status == 0
                }
                #expect(up.log.contains("following \(checkout) at main, path Manifests"), "\(up.log.prefix(2000))")

                let status = try await ReconcilerClient(baseURL: "http://\(api)").status()
                let head = try await Self.head(checkout)
                #expect(status.error == nil)
                #expect(status.appliedCommit.map { !$0.isEmpty && head.hasPrefix($0) } == true, "applied \(status.appliedCommit ?? "nothing"), HEAD \(head)")
                #expect(status.apps.filter { $0.kind == "App" }.count == appCount, "\(status.apps)")
                #expect(status.apps.filter { $0.kind == "Job" }.count == jobCount, "\(status.apps)")
                let files = try FileManager.default.contentsOfDirectory(atPath: checkout + "/Manifests").filter { $0.hasSuffix(".yaml") }
                    .map { try String(contentsOfFile: checkout + "/Manifests/" + $0, encoding: .utf8) }
                let tasks = try #require(try await OperatorClient(master).call(.getTasks).getTasks)
                for app in status.apps {
                    #expect(app.phase == .synced, "\(app)")
                    #expect(app.desiredCommit == String(head.prefix(12)), "\(app)")
                    #expect(files.contains { $0.contains("name: \(app.name)\n") || $0.contains("name: \(app.name)}") }, "\(app.name) is not in Manifests/")
                    let mine = { (task: MesosTask) in task.labels?.labels.contains { $0.key == TaskLabel.app && $0.value == app.name } == true }
                    if app.kind == "Job" {
                        #expect(tasks.completedTasks.contains { mine($0) && $0.state == .taskFinished }, "job \(app.name) did not finish")
                        #expect(!tasks.tasks.contains { mine($0) }, "job \(app.name) still runs")
                    } else {
                        #expect(app.desiredInstances > 0)
                        #expect(app.runningInstances == app.desiredInstances && app.healthyInstances == app.desiredInstances, "\(app)")
                        let running = tasks.tasks.filter { mine($0) && $0.state == .taskRunning }
                        #expect(running.count == app.desiredInstances, "\(app.name): \(running.count) running tasks")
                    }
                }
                // The image app serves from its container on the built-in bridge, reached through its mapped host port.
                let box = try #require(tasks.tasks.first { $0.labels?.labels.contains { $0.key == TaskLabel.app && $0.value == "box" } == true })
                let hostPort = try #require(box.container?.networkInfos.first?.portMappings.first?.hostPort, "\(box)")
                let page = HostCommand.output("/usr/bin/curl", ["-s", "-m", "5", "http://127.0.0.1:\(hostPort)/"])
                #expect(page.contains("hello from \(box.taskID.value), in a container"), "\(page)")

                await up.stop(signal: SIGINT, timeout: .seconds(20))
                #expect(!up.isRunning)
                #expect(up.process.terminationStatus == 0, "capstan up exits 0 on SIGINT; log:\n\(up.log.suffix(2000))")
                #expect(up.log.contains("capstan stopped"))
            } catch {
                await up.stop(signal: SIGKILL)
                throw TestFailure("\(error)\n\(up.log.suffix(4000))")
            }
            if up.process.terminationStatus != 0 || up.log.contains("error capstan") {
                Issue.record("capstan up logged errors:\n\(up.log.split(separator: "\n").filter { $0.contains(" error ") }.joined(separator: "\n"))")
            }
        }

        @Test("capstan bench gitops times both scenarios through its own capstan up, then stops it and cleans up")
        func benchGitOpsRunsAndCleansUp() async throws {
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-bench-gitops-test-\(UUID().uuidString.prefix(8))").path
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let run = try await ValidateCommandTests.capstan(["bench", "gitops", "--iterations", "2", "--instances", "3", "--scratch", scratch])
            #expect(run.status == 0, "\(run.output)")
            for scenario in ["create", "rolling"] {
                let summary = run.output.split(separator: "\n").first { $0.hasPrefix("  \(scenario) ") && $0.contains("p99") }
                #expect(summary?.contains("(2 runs)") == true, "no \(scenario) summary in:\n\(run.output)")
            }
            #expect(run.output.contains("goal p99 <= 2 s: "))
            #expect(run.output.contains("Argo CD"))
            #expect(run.output.contains("not a side-by-side run"))
            // The child `capstan up` is gone, and with it every task it ran.
            let pidText = try #require(run.output.firstMatch(of: /capstan up running \(pid (\d+)\)/)?.output.1)
            let pid = try #require(Int32(pidText))
            #expect(kill(pid, 0) != 0, "capstan up (pid \(pid)) still runs")
            let log = (try? String(contentsOfFile: scratch + "/up.log", encoding: .utf8)) ?? ""
            #expect(log.contains("capstan stopped"), "\(log.suffix(2000))")
        }

        /// (apps, jobs) from `valid: N apps, M jobs` (either part may be missing when zero, and singular when one).
        static func counts(_ output: String) -> (Int, Int)? {
            guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("valid:") }) else { return nil }
            var apps = 0, jobs = 0
            for part in line.dropFirst("valid:".count).split(separator: ",") {
                let words = part.split(separator: " ")
                guard words.count == 2, let number = Int(words[0]) else { continue }
                if words[1].hasPrefix("app") { apps = number } else if words[1].hasPrefix("job") { jobs = number }
            }
            return (apps, jobs)
        }

        static func head(_ checkout: String) async throws -> String {
            let run = try await ValidateCommandTests.capstanOrGit(["git", "-C", checkout, "rev-parse", "HEAD"])
            return run.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}
