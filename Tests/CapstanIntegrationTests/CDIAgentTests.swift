import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// An agent reads CDI specs at start: the devices of the good ones are advertised as `cdi_devices`, a malformed
    /// spec is logged with its file and field, and `capstan diff` places an app asking for a device accordingly.
    @Suite("CDI specs at the agent")
    struct CDIAgentTests {
        @Test("The agent advertises the devices of its good CDI specs, logs a malformed one with its file, and diff places by device")
        func agentAdvertisesDevices() async throws {
            try await TestCluster().run { cluster in
                let specs = cluster.scratch + "/cdi"
                try FileManager.default.createDirectory(atPath: specs, withIntermediateDirectories: true)
                try """
                    cdiVersion: 0.6.0
                    kind: vendor.example/dev
                    devices:
                      - name: null0
                        containerEdits:
                          deviceNodes: [{path: /dev/null}]
                    """.write(toFile: specs + "/good.yaml", atomically: true, encoding: .utf8)
                try #"{"cdiVersion": "0.6.0", "kind": "vendor.example/broken", "devices": [{"name": "x", "containerEdits": {"deviceNodes": [{}]}}]}"#
                    .write(toFile: specs + "/broken.json", atomically: true, encoding: .utf8)
                try await cluster.startMaster()
                let agent = try await cluster.startAgent(resources: "cpus:1;mem:256;disk:128", extraArguments: ["--cdi-spec-dirs", specs])
                let agents = try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents ?? []
                let attribute = agents.first?.agentInfo.attributes.first { $0.name == AgentAttribute.cdiDevices }
                #expect(attribute?.text?.value == "vendor.example/dev=null0", "\(String(describing: attribute))")
                try await eventually("the agent logged the malformed spec") {
                    agent.process.log.contains(specs + "/broken.json") && agent.process.log.contains("deviceNodes[0].path")
                }

                // The one plan: an app asking for the advertised device fits; one asking for another will not.
                let repo = cluster.scratch + "/repo"
                try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
                try await ValidateCommandTests.git(repo, "init", "-q", "-b", "main")
                let app = GitOpsFixture.app("dev", instances: 1, extra: "\n  devices: [vendor.example/dev=null0]")
                let missing = GitOpsFixture.app("gpu", instances: 1, extra: "\n  devices: [vendor.example/gpu=0]")
                try app.write(toFile: repo + "/dev.yaml", atomically: true, encoding: .utf8)
                try missing.write(toFile: repo + "/gpu.yaml", atomically: true, encoding: .utf8)
                try await ValidateCommandTests.git(repo, "add", ".")
                try await ValidateCommandTests.git(repo, "commit", "-q", "-m", "devices")
                let plan = try await EndToEnd.DiffCommandTests.run([
                    CapstanBinary.path, "diff", "--repo", repo, "--against", "live", "--master", cluster.master.description, "--output", "json",
                ])
                #expect(plan.status == 2, "\(plan.stdout) \(plan.stderr)")
                #expect(plan.stdout.contains("no agent has CDI device vendor.example/gpu=0"), "\(plan.stdout)")
                #expect(!plan.stdout.contains("no agent has CDI device vendor.example/dev=null0"), "\(plan.stdout)")
            }
        }
    }
}

extension EndToEnd {
    /// CDI devices applied at launch (`devices/cdi`, then `cgroups/devices`): a spec naming harmless character devices
    /// of the local/experimental major 60 (no driver behind it: opening a node the cgroup allows gives ENXIO, one it
    /// refuses EPERM), a read-only mount, a variable, a supplementary group and hooks.
    @Suite("CDI devices applied at launch (devices/cdi)")
    struct CDILaunchTests {
        /// The scratch layout: host nodes, the mounted data, the hook log, the spec directory (with a malformed spec).
        struct Fixture {
            let root: String
            var specs: String { root + "/specs" }
            var data: String { root + "/data" }
            var target: String { root + "/target" }
            var hostNode: String { root + "/host-node" }
            var hookLog: String { root + "/hooks.log" }

            init(scratch: String) throws {
                root = scratch + "/cdi"
                for directory in [root, root + "/specs", root + "/data", root + "/target"] {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                }
                try "cdi data\n".write(toFile: data + "/file.txt", atomically: true, encoding: .utf8)
                let previous = umask(0)
                defer { umask(previous) }
                for (path, minor) in [(root + "/one", UInt32(0)), (hostNode, 2)] {
                    guard mknod(path, S_IFCHR | 0o640, dev_t((60 << 8) | minor)) == 0 else {
                        throw CapstanError(.unavailable, "mknod \(path): \(String(cString: strerror(errno)))")
                    }
                }
                let hook = root + "/hook.sh"
                try "#!/bin/sh\necho \"$1 $(/bin/cat)\" >> \(hookLog)\n".write(toFile: hook, atomically: true, encoding: .utf8)
                chmod(hook, 0o755)
                try """
                    cdiVersion: 0.7.0
                    kind: test.capstan/dev
                    devices:
                      - name: one
                        containerEdits:
                          deviceNodes: [{path: /dev/capstan/one, hostPath: \(root)/one, gid: 4243}]
                          mounts: [{hostPath: \(data), containerPath: /opt/cdi, options: [ro, bind]}]
                          env: [CAPSTAN_CDI=one]
                          additionalGids: [4242]
                          hooks:
                            - {hookName: createRuntime, path: \(hook), args: [hook.sh, createRuntime], timeout: 10}
                            - {hookName: poststop, path: \(hook), args: [hook.sh, poststop]}
                      - name: host
                        containerEdits:
                          deviceNodes: [{path: \(hostNode)}]
                          mounts: [{hostPath: \(data), containerPath: \(target), options: [ro]}]
                          env: [CAPSTAN_CDI=host]
                    """.write(toFile: specs + "/test.yaml", atomically: true, encoding: .utf8)
                try #"{"cdiVersion": "0.6.0", "kind": "test.capstan/broken", "devices": [{"name": "x", "containerEdits": {"deviceNodes": [{}]}}]}"#
                    .write(toFile: specs + "/broken.json", atomically: true, encoding: .utf8)
            }
        }

        static func line(_ name: String, in text: String) -> String {
            text.split(separator: "\n").first { $0.hasPrefix("\(name): ") }.map(String.init) ?? ""
        }

        static func withLabel(_ task: TaskInfo, devices: String) -> TaskInfo {
            var task = task
            task.labels = Labels(labels: [Label(key: TaskLabel.cdiDevices, value: devices)])
            return task
        }

        @Test("An image task asking through its image's cdi.k8s.io label and a command task asking through its label get their node, read-only mount, variable, group and hooks, and are refused another device; an unknown device fails the task naming it")
        func tasksGetTheirDevices() async throws {
            guard Prerequisites.met("tasks from images need root and busybox", missing: ImageTaskTests.prerequisitesMissing) else { return }
            guard GPUIsolationTests.devicesControllerPresent() else { return }
            try await TestCluster().run { cluster in
                let fixture = try Fixture(scratch: cluster.scratch)
                try await cluster.startMaster()
                let workDir = cluster.scratch + "/agent-cdi"
                try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
                try ImageTaskTests.importBusybox(agentWorkDir: workDir, scratch: cluster.scratch)
                try ImageTaskTests.run(CapstanBinary.path, [
                    "image", "import", cluster.scratch + "/rootfs.tar", "busybox:e2e-cdi", "--label", "cdi.k8s.io/test=test.capstan/dev=one",
                    "--work-dir", workDir,
                ])
                let agent = try await cluster.startAgent(
                    resources: "cpus:2;mem:512;disk:256", workDir: workDir, extraArguments: ["--cdi-spec-dirs", fixture.specs])
                try await eventually("the agent logged the malformed spec and kept the good one") {
                    agent.process.log.contains(fixture.specs + "/broken.json")
                }
                let scheduler = try await EventRecorder.subscribe(cluster.master, name: "cdi-probe")
                let offer = try #require(try await scheduler.nextOffers().first)

                let imageProbe = """
                    echo "nodes: $(ls /dev/capstan | tr '\\n' ' ')"; echo "mode: $(stat -c '%a %g' /dev/capstan/one)"; \
                    busybox mknod /dev/probe-other c 60 1; \
                    echo "own: $(cat /dev/capstan/one 2>&1)"; echo "other: $(cat /dev/probe-other 2>&1)"; \
                    echo "read: $(cat /opt/cdi/file.txt)"; echo "write: $( (echo x > /opt/cdi/new) 2>&1)"; \
                    echo "env: $CAPSTAN_CDI"; echo "groups: $(id -G)"
                    """
                var imageTask = TestTasks.command("cdi-image", imageProbe, agent: offer.agentID)
                imageTask.container = ImageTaskTests.busyboxContainer(image: "busybox:e2e-cdi")
                let commandProbe = """
                    mknod "$MESOS_SANDBOX/other" c 60 1; \
                    echo "own: $(cat \(fixture.hostNode) 2>&1)"; echo "other: $(cat "$MESOS_SANDBOX/other" 2>&1)"; \
                    echo "read: $(cat \(fixture.target)/file.txt)"; echo "write: $( (echo x > \(fixture.target)/new) 2>&1)"; \
                    echo "env: $CAPSTAN_CDI"
                    """
                let commandTask = Self.withLabel(TestTasks.command("cdi-command", commandProbe, agent: offer.agentID), devices: "test.capstan/dev=host")
                let unknown = Self.withLabel(TestTasks.command("cdi-unknown", "true", agent: offer.agentID), devices: "test.capstan/dev=nope")
                // A custom executor's container gets the devices of the task that starts it.
                let executorProbe = """
                    mknod "$MESOS_SANDBOX/other" c 60 1; \
                    echo "own: $(cat \(fixture.hostNode) 2>&1)"; echo "other: $(cat "$MESOS_SANDBOX/other" 2>&1)"; echo "env: $CAPSTAN_CDI"
                    """
                let executorTask = Self.withLabel(
                    ExecutorAPITests.executorTask("cdi-executor-task", executorProbe, agent: offer.agentID, executor: "cdi-executor"),
                    devices: "test.capstan/dev=host")
                try await scheduler.launch([imageTask, commandTask, unknown, executorTask], on: [offer], refuseSeconds: 0)

                let failed = try await scheduler.update("cdi-unknown", .taskFailed, timeout: .seconds(20))
                #expect(
                    failed.message?.contains("unknown CDI device test.capstan/dev=nope: this agent's CDI devices are test.capstan/dev=host, test.capstan/dev=one") == true,
                    "\(String(describing: failed.message))")
                try await scheduler.update("cdi-image", .taskFinished, timeout: .seconds(30))
                try await scheduler.update("cdi-command", .taskFinished, timeout: .seconds(30))

                let imageOut = try String(contentsOfFile: try #require(ImageTaskTests.findStdout(executor: "cdi-image", under: workDir + "/slaves")), encoding: .utf8)
                #expect(Self.line("nodes", in: imageOut) == "nodes: one ", "the nested node is made: \(imageOut)")
                #expect(Self.line("mode", in: imageOut) == "mode: 640 4243", "the host node's mode, the spec's group: \(imageOut)")
                #expect(Self.line("own", in: imageOut).contains("No such device or address"), "the cgroup lets its device through: \(imageOut)")
                #expect(Self.line("other", in: imageOut).contains("Operation not permitted"), "the cgroup refuses another: \(imageOut)")
                #expect(Self.line("read", in: imageOut) == "read: cdi data", "\(imageOut)")
                #expect(Self.line("write", in: imageOut).contains("Read-only file system"), "\(imageOut)")
                #expect(Self.line("env", in: imageOut) == "env: one", "\(imageOut)")
                #expect(Self.line("groups", in: imageOut).split(separator: " ").contains("4242"), "the CDI group is added: \(imageOut)")

                let commandOut = try String(contentsOfFile: try #require(ImageTaskTests.findStdout(executor: "cdi-command", under: workDir + "/slaves")), encoding: .utf8)
                #expect(Self.line("own", in: commandOut).contains("No such device or address"), "\(commandOut)")
                #expect(Self.line("other", in: commandOut).contains("Operation not permitted"), "\(commandOut)")
                #expect(Self.line("read", in: commandOut) == "read: cdi data", "\(commandOut)")
                #expect(Self.line("write", in: commandOut).contains("Read-only file system"), "\(commandOut)")
                #expect(Self.line("env", in: commandOut) == "env: host", "\(commandOut)")
                #expect(!FileManager.default.fileExists(atPath: fixture.data + "/new"))

                try await scheduler.update("cdi-executor-task", .taskFinished, timeout: .seconds(30))
                let executorOut = try String(
                    contentsOfFile: try #require(ImageTaskTests.findStdout(executor: "cdi-executor", under: workDir + "/slaves")), encoding: .utf8)
                #expect(Self.line("own", in: executorOut).contains("No such device or address"), "\(executorOut)")
                #expect(Self.line("other", in: executorOut).contains("Operation not permitted"), "\(executorOut)")
                #expect(Self.line("env", in: executorOut) == "env: host", "\(executorOut)")

                try await eventually("the poststop hook ran once the image task's container was cleaned up") {
                    ((try? String(contentsOfFile: fixture.hookLog, encoding: .utf8)) ?? "").contains("poststop ")
                }
                let hooks = try String(contentsOfFile: fixture.hookLog, encoding: .utf8).split(separator: "\n")
                #expect(hooks.count == 2, "\(hooks)")
                #expect(hooks.first?.hasPrefix("createRuntime {") == true && hooks.first?.contains(#""status":"created""#) == true, "\(hooks)")
                #expect(hooks.first?.contains(#""pid":"#) == true, "\(hooks)")
                #expect(hooks.last?.contains(#""status":"stopped""#) == true, "\(hooks)")
                await scheduler.disconnect()
            }
        }
    }
}
