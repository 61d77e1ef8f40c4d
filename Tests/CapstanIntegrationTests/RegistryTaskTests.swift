import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    @Suite("Tasks from registry images")
    struct RegistryTaskTests {
        /// Debian's `docker-registry` on a 127.0.0.1 port the kernel picks (known after ``waitUntilListening()``),
        /// anonymous or with htpasswd basic auth; stopped by PID.
        final class Registry: @unchecked Sendable {
            private(set) var port = 0
            let directory: String
            let process = Process()
            let credentials: (user: String, password: String)?
            var host: String { "127.0.0.1:\(port)" }

            init(in scratch: String, basicAuth: Bool) throws {
                directory = scratch + "/registry-\(basicAuth ? "basic" : "anonymous")"
                try FileManager.default.createDirectory(atPath: directory + "/storage", withIntermediateDirectories: true)
                var auth = ""
                if basicAuth {
                    credentials = ("capstan", "e2e-s3cret")
                    try RegistryTaskTests.run("htpasswd", ["-Bbc", directory + "/htpasswd", "capstan", "e2e-s3cret"])
                    auth = "auth:\n  htpasswd:\n    realm: capstan-e2e\n    path: \(directory)/htpasswd\n"
                } else {
                    credentials = nil
                }
                let config = """
                    version: 0.1
                    log:
                      level: warn
                    storage:
                      filesystem:
                        rootdirectory: \(directory)/storage
                    http:
                      addr: 127.0.0.1:0
                    \(auth)
                    """
                try Data(config.utf8).write(to: URL(fileURLWithPath: directory + "/config.yml"))
                FileManager.default.createFile(atPath: directory + "/registry.log", contents: nil)
                let log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/registry.log"))
                process.executableURL = URL(fileURLWithPath: try Prerequisites.path(of: "docker-registry"))
                process.arguments = ["serve", directory + "/config.yml"]
                process.standardOutput = log
                process.standardError = log
                process.standardInput = FileHandle.nullDevice
                try process.run()
            }

            /// Waits (at most 30 s) until the registry listens, and takes the port it bound from its socket.
            func waitUntilListening() async throws {
                try await eventually("docker-registry listening", timeout: .seconds(30), interval: .milliseconds(100)) {
                    guard self.process.isRunning else {
                        throw TestFailure("docker-registry exited: \((try? String(contentsOfFile: self.directory + "/registry.log", encoding: .utf8)) ?? "")")
                    }
                    guard let port = ListeningPorts.of(pid: self.process.processIdentifier).first else { return false }
                    self.port = port
                    return true
                }
            }

            func stop() {
                guard process.isRunning else { return }
                kill(process.processIdentifier, SIGTERM)
                process.waitUntilExit()
            }
        }

        static func run(_ name: String, _ arguments: [String]) throws {
            try ImageTaskTests.run(name.hasPrefix("/") ? name : (Prerequisites.which(name) ?? name), arguments)
        }

        static var prerequisitesMissing: String? {
            Prerequisites.missing(ImageTaskTests.prerequisites + [.binaries("docker-registry", "skopeo", "htpasswd")])
        }

        /// Starts a registry holding busybox:test (built from Debian's busybox-static with `capstan image import` and
        /// pushed with skopeo), a master, and an agent started with `agentFlags(registry)`; subscribes a scheduler and
        /// hands it the first offer. Everything is stopped by PID afterwards.
        static func withRegistryAgent(
            basicAuth: Bool, agentFlags: (Registry, String) throws -> [String],
            _ body: (_ scheduler: EventRecorder, _ offer: Offer, _ registry: Registry, _ agentWorkDir: String) async throws -> Void
        ) async throws {
            let what = "tasks from registry images need root, busybox, docker-registry, skopeo and htpasswd"
            guard Prerequisites.met(what, missing: prerequisitesMissing) else { return }
            try await TestCluster().run { cluster in
                let registry = try Registry(in: cluster.scratch, basicAuth: basicAuth)
                defer { registry.stop() }
                try await registry.waitUntilListening()
                try pushBusybox(to: registry, scratch: cluster.scratch)

                try await cluster.startMaster()
                let workDir = cluster.scratch + "/agent-registry"
                let listenFile = ListenFile.path(in: cluster.scratch, name: "agent")
                let arguments = [
                    "agent", "--master", cluster.master.description, "--listen", "127.0.0.1:0", "--listen-file", listenFile, "--work-dir", workDir,
                    "--resources", "cpus:2;mem:1024;disk:1024;ports:[31000-31099]", "--executor-registration-timeout", "10secs",
                    "--status-update-retry-interval", "300ms", "--log-level", "debug",
                ] + cluster.agentCredentialArguments(slot: 0) + (try agentFlags(registry, cluster.scratch))
                let agent = try CapstanProcess(arguments: arguments, logPath: workDir + ".log")
                do {
                    let endpoint = try await ListenFile.address(at: listenFile, of: agent)
                    try await waitForHealth(endpoint)
                    try await eventually("agent \(endpoint) registered") { try await cluster.registeredAgentCount() > 0 }
                    let scheduler = try await EventRecorder.subscribe(cluster.master)
                    let offer = try #require(try await scheduler.nextOffers().first)
                    try await body(scheduler, offer, registry, workDir)
                    await scheduler.disconnect()
                } catch {
                    let log = agent.log
                    await agent.stop()
                    throw TestFailure("\(error)\n\n--- agent (last 4000 chars)\n\(log.suffix(4000))")
                }
                await agent.stop()
            }
        }

        /// Builds busybox:e2e in a store of its own under `scratch` and pushes it to `registry` as busybox:test.
        static func pushBusybox(to registry: Registry, scratch: String) throws {
            let source = scratch + "/source"
            try ImageTaskTests.importBusybox(agentWorkDir: source, scratch: scratch)
            try run(CapstanBinary.path, ["image", "save", "busybox:e2e", "oci:\(scratch)/layout:test", "--work-dir", source])
            var push = ["--insecure-policy", "copy", "--dest-tls-verify=false"]
            if let credentials = registry.credentials { push += ["--dest-creds", "\(credentials.user):\(credentials.password)"] }
            try run("skopeo", push + ["oci:\(scratch)/layout:test", "docker://\(registry.host)/busybox:test"])
        }

        static func busyboxTask(_ id: String, _ shell: String, image: String, agent: AgentID) -> TaskInfo {
            var task = TestTasks.command(id, shell, agent: agent)
            var container = ContainerInfo(type: .mesos)
            container.mesos = .init(image: Image(type: .docker, docker: .init(name: image)))
            task.container = container
            return task
        }

        static func stdout(of executor: String, agentWorkDir workDir: String) throws -> String {
            let path = try #require(ImageTaskTests.findStdout(executor: executor, under: workDir + "/slaves"))
            return try String(contentsOfFile: path, encoding: .utf8)
        }

        @Test("An agent with --insecure-registry pulls an image on first use, once for two tasks, and runs them from it; a missing image is TASK_FAILED naming it")
        func anonymousRegistry() async throws {
            try await Self.withRegistryAgent(basicAuth: false, agentFlags: { registry, _ in ["--insecure-registry", registry.host] }) {
                scheduler, offer, registry, workDir in
                let image = "\(registry.host)/busybox:test"
                let shell = "test ! -e /etc/debian_version && echo from-the-registry-image; cat /etc/passwd"
                let first = Self.busyboxTask("pulled-1", shell, image: image, agent: offer.agentID)
                let second = Self.busyboxTask("pulled-2", shell, image: image, agent: offer.agentID)
                let missing = Self.busyboxTask("missing", "true", image: "\(registry.host)/no-such-image:test", agent: offer.agentID)
                try await scheduler.launch([first, second, missing], on: [offer])
                try await scheduler.update("pulled-1", .taskFinished, timeout: .seconds(60))
                try await scheduler.update("pulled-2", .taskFinished, timeout: .seconds(60))
                let failed = try await scheduler.update("missing", .taskFailed, timeout: .seconds(60))
                #expect(failed.message?.contains("\(registry.host)/no-such-image:test") == true, "\(failed.message ?? "")")
                #expect(failed.message?.contains("404") == true, "the cause: \(failed.message ?? "")")

                for task in ["pulled-1", "pulled-2"] {
                    let text = try Self.stdout(of: task, agentWorkDir: workDir)
                    #expect(text.contains("from-the-registry-image"), "\(task) runs on the image's rootfs: \(text)")
                    #expect(text.contains("root:x:0:0:root:/root:/bin/sh"), "\(text)")
                }
                let log = try String(contentsOfFile: workDir + ".log", encoding: .utf8)
                let stored = log.components(separatedBy: "stored image").count - 1
                #expect(stored == 1, "two tasks of one image pull it once (stored \(stored) times)")
            }
        }

        @Test("An agent pulls from a registry with htpasswd basic auth using credentials from --registry-config")
        func basicAuthRegistry() async throws {
            try await Self.withRegistryAgent(
                basicAuth: true,
                agentFlags: { registry, scratch in
                    let auth = Data("capstan:e2e-s3cret".utf8).base64EncodedString()
                    try Data(#"{"auths":{"\#(registry.host)":{"auth":"\#(auth)"}}}"#.utf8).write(to: URL(fileURLWithPath: scratch + "/config.json"))
                    return ["--insecure-registry", registry.host, "--registry-config", scratch + "/config.json"]
                }
            ) { scheduler, offer, registry, workDir in
                let task = Self.busyboxTask("private", "echo authenticated-pull-ok", image: "\(registry.host)/busybox:test", agent: offer.agentID)
                try await scheduler.launch([task], on: [offer])
                try await scheduler.update("private", .taskFinished, timeout: .seconds(60))
                #expect(try Self.stdout(of: "private", agentWorkDir: workDir).contains("authenticated-pull-ok"))
            }
        }
    }
}
