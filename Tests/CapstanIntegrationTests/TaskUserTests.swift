import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// Which user tasks run as, through a real master and agent (issue 9: `FrameworkInfo.user` was ignored, so a
    /// framework subscribed as `nobody` got its tasks run as root).
    @Suite("Task users")
    struct TaskUserTests {
        /// Whether the test cannot switch users here (not root): it is then skipped, or failed under strict.
        static func skipUnlessRoot() -> Bool { !Prerequisites.met("switching users", .root("switching users needs it")) }

        static func read(_ path: String?) -> String {
            path.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
        }

        static func owner(_ path: String) -> Int? {
            (try? FileManager.default.attributesOfItem(atPath: path))?[.ownerAccountID] as? Int
        }

        static let nobodyHome = String(cString: getpwnam("nobody").pointee.pw_dir)

        @Test("A framework subscribed as nobody runs its command tasks as nobody in a sandbox nobody owns; CommandInfo.user overrides; an unknown user is TASK_FAILED naming it")
        func commandTasksRunAsTheFrameworkUser() async throws {
            if Self.skipUnlessRoot() { return }
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master, user: "nobody")
                let offer = try #require(try await scheduler.nextOffers().first)
                let asNobody = TestTasks.command(
                    "as-nobody", "id -u; id -G; echo \"$HOME $USER\"; echo written > \"$MESOS_SANDBOX/mine\"", agent: offer.agentID)
                var asRoot = TestTasks.command("as-root", "id -u", agent: offer.agentID)
                asRoot.command?.user = "root"
                var ghost = TestTasks.command("ghost", "true", agent: offer.agentID)
                ghost.command?.user = "capstan-ghost"
                try await scheduler.launch([asNobody, asRoot, ghost], on: [offer])

                let workDir = cluster.agents[0].workDir
                try await scheduler.update("as-nobody", .taskFinished, timeout: .seconds(20))
                let stdout = try #require(ImageTaskTests.findStdout(executor: "as-nobody", under: workDir))
                #expect(Self.read(stdout) == "65534\n65534\n\(Self.nobodyHome) nobody\n", "stderr: \(Self.read(stdout.replacingOccurrences(of: "/stdout", with: "/stderr")))")
                let sandbox = (stdout as NSString).deletingLastPathComponent
                #expect(Self.owner(sandbox) == 65534, "the sandbox is nobody's")
                #expect(Self.owner(stdout) == 65534)
                #expect(Self.owner(sandbox + "/mine") == 65534)

                try await scheduler.update("as-root", .taskFinished, timeout: .seconds(20))
                #expect(Self.read(ImageTaskTests.findStdout(executor: "as-root", under: workDir)) == "0\n", "CommandInfo.user wins")

                let failed = try await scheduler.update("ghost", .taskFailed, timeout: .seconds(20))
                #expect(failed.reason == .reasonContainerLaunchFailed, "\(failed)")
                #expect(failed.message?.contains("user 'capstan-ghost' does not exist") == true, "\(failed)")
                await scheduler.disconnect()
            }
        }

        @Test("With --no-switch-user a framework's user is not switched to: its tasks run as the agent's user")
        func noSwitchUserRunsTasksAsTheAgent() async throws {
            if Self.skipUnlessRoot() { return }
            try await TestCluster().run { cluster in
                try await cluster.startMaster()
                let agent = try await cluster.startAgent(extraArguments: ["--no-switch-user"])
                let scheduler = try await EventRecorder.subscribe(cluster.master, user: "capstan-ghost")
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch([TestTasks.command("as-agent", "id -u", agent: offer.agentID)], on: [offer])
                try await scheduler.update("as-agent", .taskFinished, timeout: .seconds(20))
                #expect(Self.read(ImageTaskTests.findStdout(executor: "as-agent", under: agent.workDir)) == "0\n")
                let flags = try await OperatorClient(agent.endpoint).agentCall(.getFlags).getFlags?.flags ?? []
                #expect(flags.contains { $0.name == "switch_user" && $0.value == "false" }, "\(flags)")
                await scheduler.disconnect()
            }
        }

        @Test("A custom executor of a framework subscribed as nobody runs as nobody")
        func customExecutorRunsAsTheFrameworkUser() async throws {
            if Self.skipUnlessRoot() { return }
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
                print("SKIPPED: no /usr/bin/python3 for the echo executor")
                return
            }
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master, user: "nobody")
                let offer = try #require(try await scheduler.nextOffers().first)
                // nobody must be able to read the executor: the checkout may sit under a directory only root can enter.
                let executor = cluster.scratch + "/echo_executor.py"
                try FileManager.default.copyItem(atPath: ExecutorAPITests.executorPath, toPath: executor)
                try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: executor)
                var task = ExecutorAPITests.executorTask("via-executor", "echo done", agent: offer.agentID)
                task.executor?.command = CommandInfo(
                    value: "id -u > \"$MESOS_SANDBOX/whoami\"; exec /usr/bin/python3 \(executor)")
                try await scheduler.launch([task], on: [offer])
                try await scheduler.update("via-executor", .taskFinished, timeout: .seconds(20))
                let whoami = ExecutorAPITests.findFile(named: "whoami", under: cluster.agents[0].workDir + "/slaves")
                #expect(Self.read(whoami) == "65534\n")
                await scheduler.disconnect()
            }
        }

        /// A master, and an agent with busybox:e2e and busybox:e2e-nobody (USER nobody) in its store; `body` gets a
        /// scheduler subscribed as `frameworkUser`, its first offer and the agent's work dir. Skips without root and busybox.
        static func withUserImages(
            agentArguments: [String] = [], frameworkUser: String,
            _ body: (_ scheduler: EventRecorder, _ offer: Offer, _ workDir: String) async throws -> Void
        ) async throws {
            guard Prerequisites.met("tasks from images need root and busybox", missing: ImageTaskTests.prerequisitesMissing) else { return }
            try await TestCluster().run { cluster in
                try await cluster.startMaster()
                let workDir = cluster.scratch + "/agent-users"
                try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
                try ImageTaskTests.importBusybox(agentWorkDir: workDir, scratch: cluster.scratch)
                try ImageTaskTests.importBusyboxAsNobody(agentWorkDir: workDir, scratch: cluster.scratch)
                try await cluster.startAgent(workDir: workDir, extraArguments: agentArguments)
                let scheduler = try await EventRecorder.subscribe(cluster.master, user: frameworkUser)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await body(scheduler, offer, workDir)
                await scheduler.disconnect()
            }
        }

        @Test("Image tasks run as the framework's user (over the image's USER), CommandInfo.user overrides, and an unknown user fails naming it and the image")
        func imageTasksRunAsTheirUser() async throws {
            try await Self.withUserImages(frameworkUser: "nobody") { scheduler, offer, workDir in
                var asNobody = TestTasks.command(
                    "image-nobody", "id -u; echo \"$HOME $USER\"; echo written > /mnt/mesos/sandbox/mine", agent: offer.agentID)
                asNobody.container = ImageTaskTests.busyboxContainer()
                var asRoot = TestTasks.command("image-root", "id -u", agent: offer.agentID)
                asRoot.command?.user = "root"
                asRoot.container = ImageTaskTests.busyboxContainer()
                var ghost = TestTasks.command("image-ghost", "true", agent: offer.agentID)
                ghost.command?.user = "capstan-ghost"
                ghost.container = ImageTaskTests.busyboxContainer()
                try await scheduler.launch([asNobody, asRoot, ghost], on: [offer])

                try await scheduler.update("image-nobody", .taskFinished, timeout: .seconds(30))
                let stdout = try #require(ImageTaskTests.findStdout(executor: "image-nobody", under: workDir))
                #expect(Self.read(stdout) == "65534\n/nonexistent nobody\n")
                #expect(Self.owner((stdout as NSString).deletingLastPathComponent + "/mine") == 65534)
                try await scheduler.update("image-root", .taskFinished, timeout: .seconds(30))
                #expect(Self.read(ImageTaskTests.findStdout(executor: "image-root", under: workDir)) == "0\n")
                let failed = try await scheduler.update("image-ghost", .taskFailed, timeout: .seconds(30))
                #expect(failed.message?.contains("user 'capstan-ghost' is not in the container's /etc/passwd") == true, "\(failed)")
                #expect(failed.message?.contains("busybox:e2e") == true, "the message names the image: \(failed)")
            }
            try await Self.withUserImages(frameworkUser: "root") { scheduler, offer, workDir in
                // Root only when asked: a framework naming root gets root even from an image whose USER is nobody.
                var task = TestTasks.command("image-asked-root", "id -u", agent: offer.agentID)
                task.container = ImageTaskTests.busyboxContainer(image: "busybox:e2e-nobody")
                try await scheduler.launch([task], on: [offer])
                try await scheduler.update("image-asked-root", .taskFinished, timeout: .seconds(30))
                #expect(Self.read(ImageTaskTests.findStdout(executor: "image-asked-root", under: workDir)) == "0\n")
            }
        }

        @Test("With --no-switch-user an image task runs as the image's USER, and as root from an image that names none")
        func noSwitchUserLeavesImageTasksToTheImagesUser() async throws {
            try await Self.withUserImages(agentArguments: ["--no-switch-user"], frameworkUser: "capstan-ghost") { scheduler, offer, workDir in
                var imageUser = TestTasks.command("image-user", "id -u", agent: offer.agentID)
                imageUser.container = ImageTaskTests.busyboxContainer(image: "busybox:e2e-nobody")
                var imageDefault = TestTasks.command("image-default", "id -u", agent: offer.agentID)
                imageDefault.container = ImageTaskTests.busyboxContainer()
                try await scheduler.launch([imageUser, imageDefault], on: [offer])
                try await scheduler.update("image-user", .taskFinished, timeout: .seconds(30))
                #expect(Self.read(ImageTaskTests.findStdout(executor: "image-user", under: workDir)) == "65534\n")
                try await scheduler.update("image-default", .taskFinished, timeout: .seconds(30))
                #expect(Self.read(ImageTaskTests.findStdout(executor: "image-default", under: workDir)) == "0\n")
            }
        }
    }
}
