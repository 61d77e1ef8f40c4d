import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc
import Testing

@Suite("Containerizer")
struct ContainerizerTests {
    @Test func writesStdoutAndStderrToSandboxFilesAppending() async throws {
        try await Sandbox.with { sandbox in
            let containerizer = makeContainerizer()
            let first = sandbox.config("echo out; echo err >&2")
            try await containerizer.launch(first)
            let termination = try await within { try await containerizer.wait(first.containerID) }
            #expect(termination.exitStatus == 0)
            #expect(termination.message == "Command exited with status 0")
            #expect(sandbox.read("stdout") == "out\n")
            #expect(sandbox.read("stderr") == "err\n")

            let second = sandbox.config("echo again")
            try await containerizer.launch(second)
            _ = try await within { try await containerizer.wait(second.containerID) }
            #expect(sandbox.read("stdout") == "out\nagain\n")
        }
    }

    @Test func exitStatusPropagates() async throws {
        try await Sandbox.with { sandbox in
            let containerizer = makeContainerizer()
            let config = sandbox.config("exit 3")
            try await containerizer.launch(config)
            let termination = try await within { try await containerizer.wait(config.containerID) }
            #expect(termination == ContainerTermination(exitStatus: 3, message: "Command exited with status 3"))
            #expect(await containerizer.containers().isEmpty)
        }
    }

    @Test func environmentAndWorkingDirectoryAreExactlyAsGiven() async throws {
        try await Sandbox.with { sandbox in
            let containerizer = makeContainerizer()
            let config = sandbox.config("pwd; env", environment: ["FOO": "bar baz", "PATH": "/usr/bin:/bin"])
            try await containerizer.launch(config)
            _ = try await within { try await containerizer.wait(config.containerID) }
            let lines = sandbox.read("stdout").split(separator: "\n").map(String.init)
            #expect(lines.first == sandbox.path)
            #expect(lines.contains("FOO=bar baz"))
            #expect(lines.contains("PATH=/usr/bin:/bin"))
            // Nothing of the agent's environment leaks in; only what the shell itself adds.
            let names = Set(lines.dropFirst().compactMap { $0.split(separator: "=", maxSplits: 1).first.map(String.init) })
            #expect(names.isSubset(of: ["FOO", "PATH", "PWD", "OLDPWD", "SHLVL", "_"]), "unexpected: \(names)")
        }
    }

    @Test func programWithoutSlashIsSearchedInTheTasksPATH() async throws {
        try await Sandbox.with { sandbox in
            let containerizer = makeContainerizer()
            let config = sandbox.config(program: "echo", arguments: ["echo", "hello", "world"])
            try await containerizer.launch(config)
            let termination = try await within { try await containerizer.wait(config.containerID) }
            #expect(termination.exitStatus == 0)
            #expect(sandbox.read("stdout") == "hello world\n")
        }
    }

    @Test func launchOfANonexistentBinaryNamesExecveThePathAndErrno() async throws {
        try await Sandbox.with { sandbox in
            let containerizer = makeContainerizer()
            let config = sandbox.config(program: "/nope/missing", arguments: ["missing"])
            let error = await #expect(throws: CapstanError.self) { try await containerizer.launch(config) }
            #expect(error?.code == .notFound)
            #expect(error?.message == "Failed to launch: execve '/nope/missing': No such file or directory (errno 2)")
            let termination = try await containerizer.wait(config.containerID)
            #expect(termination.message == error?.message)
            #expect(termination.exitStatus == nil && termination.signal == nil && !termination.killed)
            #expect(await containerizer.containers().isEmpty)

            let searched = sandbox.config(program: "capstan-no-such-program", arguments: ["x"])
            await #expect(throws: CapstanError.self) {
                try await containerizer.launch(searched)
            }
            #expect(try await containerizer.wait(searched.containerID).message.hasSuffix("(errno 2)"))
        }
    }

    @Test func launchWithAMissingSandboxNamesChdirOrOpen() async throws {
        let containerizer = makeContainerizer()
        let config = ContainerConfig(
            containerID: "c-missing-sandbox", command: CommandSpec(value: "true"), sandboxDirectory: "/nonexistent/sandbox")
        let error = await #expect(throws: CapstanError.self) { try await containerizer.launch(config) }
        #expect(error?.message == "Failed to launch: open '/nonexistent/sandbox/stdout': No such file or directory (errno 2)")
    }

    @Test func invalidCommandsAndDuplicateLaunchesAreRejected() async throws {
        try await Sandbox.with { sandbox in
            let containerizer = makeContainerizer()
            var config = sandbox.config("sleep 1000")
            config.command.value = nil
            let invalid = await #expect(throws: CapstanError.self) { try await containerizer.launch(config) }
            #expect(invalid?.code == .invalidArgument)

            let running = sandbox.config("sleep 1000")
            try await containerizer.launch(running)
            let duplicate = await #expect(throws: CapstanError.self) { try await containerizer.launch(running) }
            #expect(duplicate?.code == .alreadyExists)
            _ = await containerizer.destroy(running.containerID, gracePeriod: .zero)
        }
    }

    @Test func agentFileDescriptorsAreNotInherited() async throws {
        try await Sandbox.with { sandbox in
            let leaky = open("/dev/null", O_RDONLY)  // deliberately without O_CLOEXEC
            defer { close(leaky) }
            let containerizer = makeContainerizer()
            let config = sandbox.config(program: "/bin/ls", arguments: ["ls", "/proc/self/fd"])
            try await containerizer.launch(config)
            _ = try await within { try await containerizer.wait(config.containerID) }
            // ls itself holds fd 3 for the directory it lists.
            #expect(Set(sandbox.read("stdout").split(separator: "\n")) == ["0", "1", "2", "3"])
        }
    }

    @Test func destroyLetsATaskThatTrapsTERMExitGracefully() async throws {
        try await Sandbox.with { sandbox in
            let containerizer = makeContainerizer()
            let config = sandbox.config("trap 'exit 0' TERM; touch ready; while :; do sleep 0.1; done")
            try await containerizer.launch(config)
            try await sandbox.waitFor("ready")
            let start = ContinuousClock.now
            let termination = await containerizer.destroy(config.containerID, gracePeriod: .seconds(20))
            #expect(termination?.exitStatus == 0)
            #expect(termination?.killed == true)
            #expect(ContinuousClock.now - start < .seconds(10))
        }
    }

    @Test func destroySendsSIGKILLAfterTheGracePeriodToATaskIgnoringTERM() async throws {
        try await Sandbox.with { sandbox in
            let containerizer = makeContainerizer()
            let config = sandbox.config("trap '' TERM; touch ready; while :; do sleep 0.1; done")
            try await containerizer.launch(config)
            try await sandbox.waitFor("ready")
            let start = ContinuousClock.now
            let termination = await containerizer.destroy(config.containerID, gracePeriod: .milliseconds(500))
            #expect(ContinuousClock.now - start >= .milliseconds(500))
            #expect(termination == ContainerTermination(signal: SIGKILL, killed: true, message: "Command terminated by signal SIGKILL"))
        }
    }

    @Test func destroyKillsTheTasksChildren() async throws {
        try await Sandbox.with { sandbox in
            let containerizer = makeContainerizer()
            let config = sandbox.config("sleep 1000 & echo $! > a.pid; sleep 1000 & echo $! > b.pid; touch ready; wait")
            try await containerizer.launch(config)
            try await sandbox.waitFor("ready")
            let children = try [#require(sandbox.pid("a.pid")), #require(sandbox.pid("b.pid"))]
            let leader = try #require(await containerizer.pid(of: config.containerID))
            #expect(children.allSatisfy { !isGone($0) })
            let termination = await containerizer.destroy(config.containerID, gracePeriod: .seconds(5))
            #expect(termination?.killed == true)
            #expect(await eventually { children.allSatisfy(isGone) && isGone(leader) })
        }
    }

    @Test func childrenDieWhenTheFirstProcessExitsOnItsOwn() async throws {
        try await Sandbox.with { sandbox in
            let containerizer = makeContainerizer()
            let config = sandbox.config("sleep 1000 & echo $! > a.pid; exit 0")
            try await containerizer.launch(config)
            let termination = try await within { try await containerizer.wait(config.containerID) }
            #expect(termination.exitStatus == 0 && !termination.killed)
            let child = try #require(sandbox.pid("a.pid"))
            #expect(await eventually { isGone(child) })
        }
    }

    @Test func destroyIsIdempotentAndUnknownContainersAreNotFound() async throws {
        try await Sandbox.with { sandbox in
            let containerizer = makeContainerizer()
            #expect(await containerizer.destroy("c-unknown", gracePeriod: .zero) == nil)
            let unknown = await #expect(throws: CapstanError.self) { try await containerizer.wait("c-unknown") }
            #expect(unknown?.code == .notFound)

            let config = sandbox.config("sleep 1000")
            try await containerizer.launch(config)
            #expect(await containerizer.containers() == [config.containerID])
            async let first = containerizer.destroy(config.containerID, gracePeriod: .seconds(5))
            async let second = containerizer.destroy(config.containerID, gracePeriod: .seconds(5))
            let (a, b) = await (first, second)
            #expect(a != nil && a == b)
            #expect(a?.killed == true && a?.signal == SIGTERM)
            #expect(await containerizer.destroy(config.containerID, gracePeriod: .zero) == a)
            #expect(await containerizer.pid(of: config.containerID) == nil)
        }
    }

    @Test func manyWaitersGetTheSameTermination() async throws {
        try await Sandbox.with { sandbox in
            let containerizer = makeContainerizer()
            let config = sandbox.config("sleep 0.3; exit 7")
            try await containerizer.launch(config)
            let results = try await within {
                try await withThrowingTaskGroup(of: ContainerTermination.self) { group in
                    for _ in 0..<5 { group.addTask { try await containerizer.wait(config.containerID) } }
                    return try await group.reduce(into: [ContainerTermination]()) { $0.append($1) }
                }
            }
            #expect(results.count == 5)
            #expect(Set(results) == [ContainerTermination(exitStatus: 7, message: "Command exited with status 7")])
        }
    }

    @Test func aCancelledWaiterStopsWaitingWithoutDisturbingOthers() async throws {
        try await Sandbox.with { sandbox in
            let containerizer = makeContainerizer()
            let config = sandbox.config("sleep 1000")
            try await containerizer.launch(config)
            let waiter = Task { try await containerizer.wait(config.containerID) }
            try await Task.sleep(for: .milliseconds(50))
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            _ = await containerizer.destroy(config.containerID, gracePeriod: .zero)
        }
    }

    @Test func usageReportsCPUTimeOfABusyTask() async throws {
        try await Sandbox.with { sandbox in
            let containerizer = makeContainerizer()
            let config = sandbox.config("while :; do :; done")
            try await containerizer.launch(config)
            let deadline = ContinuousClock.now + .seconds(10)
            var usage = try await containerizer.usage(config.containerID)
            while (usage.cpusUserTimeSecs ?? 0) + (usage.cpusSystemTimeSecs ?? 0) == 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                usage = try await containerizer.usage(config.containerID)
            }
            #expect((usage.cpusUserTimeSecs ?? 0) > 0)
            #expect(usage.cpusSystemTimeSecs != nil)
            #expect((usage.memRSSBytes ?? 0) > 0)
            #expect(usage.processes == 1)
            #expect(abs(usage.timestamp - Date().timeIntervalSince1970) < 60)
            _ = await containerizer.destroy(config.containerID, gracePeriod: .zero)
            let gone = await #expect(throws: CapstanError.self) { try await containerizer.usage(config.containerID) }
            #expect(gone?.code == .notFound)
        }
    }

    @Test(Prerequisites.requires("switching users", .root("switching users needs it")))
    func taskRunsAsItsUserWhenTheAgentIsRootAndOwnsItsSandbox() async throws {
        try Prerequisites.require(.root("switching users needs it"))
        try await Sandbox.with { sandbox in
            // The sandbox starts out root's (0755): the launcher hands it to the task's user.
            var before = stat()
            #expect(stat(sandbox.path, &before) == 0 && before.st_uid == 0)
            let containerizer = makeContainerizer()
            let config = sandbox.config("id -u; id -g; touch mine", user: "nobody")
            try await containerizer.launch(config)
            let termination = try await within { try await containerizer.wait(config.containerID) }
            #expect(termination.exitStatus == 0, "\(sandbox.read("stderr"))")
            #expect(sandbox.read("stdout") == "65534\n65534\n")
            var info = stat()
            #expect(stat("\(sandbox.path)/stdout", &info) == 0 && info.st_uid == 65534)
            #expect(stat("\(sandbox.path)/mine", &info) == 0 && info.st_uid == 65534)
            #expect(stat(sandbox.path, &info) == 0 && info.st_uid == 65534 && info.st_gid == 65534)
        }
    }

    @Test(Prerequisites.requires("switching users", .root("switching users needs it")))
    func unknownUserFailsTheLaunch() async throws {
        try Prerequisites.require(.root("switching users needs it"))
        try await Sandbox.with { sandbox in
            let containerizer = makeContainerizer()
            let config = sandbox.config("true", user: "capstan-no-such-user")
            let error = await #expect(throws: CapstanError.self) { try await containerizer.launch(config) }
            #expect(error?.message == "Failed to launch: user 'capstan-no-such-user' does not exist")
        }
    }
}
