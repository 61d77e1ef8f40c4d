@testable import CapstanContainerizer
import CapstanCore
import CapstanInitSpec
import Foundation
import Logging
import Testing

@Suite("CDIDeviceIsolator: a plan becomes nodes, mounts, env, groups and hooks run at launch and cleanup")
struct CDIDeviceIsolatorTests {
    static func plan(_ edits: CDIContainerEdits) throws -> CDIDevicePlan {
        try CDIDevicePlan(edits) { path in throw CapstanError(.notFound, "no \(path)") }
    }

    @Test("Nodes keep kind, access, mode and owner; 'ro' binds are read-only; env and non-zero gids pass; hooks are kept by stage")
    func translatesAPlan() throws {
        let plan = try Self.plan(CDIContainerEdits(
            env: ["A=1", "B=x=y"],
            deviceNodes: [
                CDIDeviceNode(path: "/dev/dri/card0", type: .char, major: 226, minor: 0, fileMode: 0o660, permissions: "rw", uid: 0, gid: 44),
                CDIDeviceNode(path: "/dev/sdz", type: .block, major: 8, minor: 1),
                CDIDeviceNode(path: "/dev/quiet", type: .char, major: 10, minor: 1, permissions: ""),
            ],
            mounts: [
                CDIMount(hostPath: "/opt/lib", containerPath: "/usr/lib/vendor", options: ["ro", "nosuid", "bind"]),
                CDIMount(hostPath: "/opt/bin", containerPath: "/usr/bin/vendor", type: "bind"),
            ],
            hooks: [
                CDIHook(stage: .createContainer, path: "/bin/true", args: ["true", "a"]),
                CDIHook(stage: .poststop, path: "/bin/false", timeoutSeconds: 5),
                CDIHook(stage: .createContainer, path: "/bin/echo"),
            ],
            additionalGids: [0, 44, 45]))
        let edits = try CDILaunchEdits(plan, hasRootfs: true)
        #expect(edits.launchHooks.deviceNodes == [
            DeviceNodeSpec(path: "/dev/dri/card0", kind: .char, major: 226, minor: 0, access: [.read, .write], fileMode: 0o660, uid: 0, gid: 44),
            DeviceNodeSpec(path: "/dev/sdz", kind: .block, major: 8, minor: 1, access: .all, fileMode: 0o666),
            DeviceNodeSpec(path: "/dev/quiet", kind: .char, major: 10, minor: 1, access: [], fileMode: 0o666),
        ])
        #expect(edits.launchHooks.mounts == [
            BindMountSpec(source: "/opt/lib", target: "/usr/lib/vendor", readOnly: true),
            BindMountSpec(source: "/opt/bin", target: "/usr/bin/vendor", readOnly: false),
        ])
        #expect(edits.launchHooks.environment == ["A": "1", "B": "x=y"])
        #expect(edits.launchHooks.additionalGids == [44, 45])
        #expect(edits.hooks[.createContainer]?.map(\.path) == ["/bin/true", "/bin/echo"])
        #expect(edits.hooks[.createContainer]?.last?.args == ["/bin/echo"], "no args: argv is the path alone")
        #expect(edits.hooks[.poststop]?.first?.timeoutSeconds == 5)
    }

    @Test("Refused: a FIFO, a non-bind mount, a node outside /dev in an image, a moved node without an image")
    func refusesWhatCannotBeMade() throws {
        let fifo = try Self.plan(CDIContainerEdits(deviceNodes: [CDIDeviceNode(path: "/dev/pipe", type: .fifo)]))
        #expect(CDIScratch.message { try CDILaunchEdits(fifo, hasRootfs: true) }.contains("FIFO"))
        let tmpfs = try Self.plan(CDIContainerEdits(mounts: [CDIMount(hostPath: "tmpfs", containerPath: "/scratch", type: "tmpfs")]))
        #expect(CDIScratch.message { try CDILaunchEdits(tmpfs, hasRootfs: true) } == "CDI mount of type tmpfs at /scratch is not a bind mount; Capstan applies bind mounts only")
        let outside = try Self.plan(CDIContainerEdits(deviceNodes: [CDIDeviceNode(path: "/run/dev0", type: .char, major: 240, minor: 0)]))
        #expect(CDIScratch.message { try CDILaunchEdits(outside, hasRootfs: true) }.contains("not under /dev/"))
        #expect(CDIScratch.message { try CDILaunchEdits(outside, hasRootfs: false) } == "succeeded", "without an image the host's node is used as it is")
        let moved = try Self.plan(CDIContainerEdits(deviceNodes: [CDIDeviceNode(path: "/dev/x", hostPath: "/dev/y", type: .char, major: 240, minor: 0)]))
        #expect(CDIScratch.message { try CDILaunchEdits(moved, hasRootfs: false) }.contains("a task without an image shares the host's /dev"))
        #expect(CDIScratch.message { try CDILaunchEdits(moved, hasRootfs: true) } == "succeeded")
    }

    @Test("An unknown device names itself and lists the agent's devices, or says it has none")
    func unknownDevices() throws {
        try CDIScratch.with { scratch in
            try scratch.write("etc", "a.yaml", CDIRegistryTests.spec(kind: "example.com/dev", devices: [("one", "{env: [A=1]}"), ("two", "{env: [B=1]}")]))
            let registry = CDIRegistry.load(directories: [scratch.path("etc")])
            let unknown = try CDIDeviceName(parsing: "example.com/dev=three")
            #expect(CDIScratch.message { try registry.checkRequested([unknown]) }
                == "unknown CDI device example.com/dev=three: this agent's CDI devices are example.com/dev=one, example.com/dev=two")
            #expect(CDIScratch.message { try CDIRegistry(directories: [], specFiles: []).checkRequested([unknown]) }
                == "unknown CDI device example.com/dev=three: this agent has no CDI devices (specs read from no directory)")
        }
    }

    @Test("The task's devices and the image's cdi.k8s.io labels are both applied, each once")
    func requestedFromLabels() throws {
        var config = ContainerConfig(containerID: ContainerID("c"), command: CommandSpec(value: "true"), sandboxDirectory: "/tmp")
        config.cdiDevices = [try CDIDeviceName(parsing: "example.com/dev=one")]
        config.imageConfig = ImageProcessConfig(labels: [
            "cdi.k8s.io/gpu": "example.com/dev=two, example.com/dev=one", "other": "example.com/dev=three",
        ])
        #expect(try CDIDeviceIsolator.requestedDevices(config).map(\.description) == ["example.com/dev=one", "example.com/dev=two"])
        config.imageConfig = ImageProcessConfig(labels: ["cdi.k8s.io/x": "nope"])
        #expect(CDIScratch.message { try CDIDeviceIsolator.requestedDevices(config) }.hasPrefix("annotation cdi.k8s.io/x: CDI device 'nope'"))
    }

    /// A hook script that appends `<stage> <args…>` and its stdin to `log`.
    static func hookScript(_ directory: String, log: String) throws -> String {
        let path = directory + "/hook.sh"
        try "#!/bin/sh\necho \"$*\" >> \(log)\n/bin/cat >> \(log)\necho >> \(log)\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    @Test("Hooks: none for the monitor's pid; the five launch stages in order for PID 1 with the OCI state; poststop once at cleanup")
    func runsHooks() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-cdi-hooks-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = directory + "/log"
        let hook = try Self.hookScript(directory, log: log)
        let stages: [CDIHookStage] = [.poststop, .poststart, .startContainer, .createContainer, .createRuntime, .prestart]
        let hooks = stages.map { #"{"hookName": "\#($0.rawValue)", "path": "\#(hook)", "args": ["hook", "\#($0.rawValue)"]}"# }
        let spec = #"{"cdiVersion": "0.6.0", "kind": "example.com/dev", "devices": [{"name": "one", "containerEdits": {"env": ["A=1"], "hooks": [\#(hooks.joined(separator: ","))]}}]}"#
        try spec.write(toFile: directory + "/spec.json", atomically: true, encoding: .utf8)
        let registry = CDIRegistry.load(directories: [directory])
        #expect(registry.errors.isEmpty, "\(registry.errors)")
        let isolator = CDIDeviceIsolator(registry: registry, logger: Logger(label: "test")) { $0 == 42 }
        var config = ContainerConfig(containerID: ContainerID("hooked"), command: CommandSpec(value: "true"), sandboxDirectory: directory)
        config.cdiDevices = [try CDIDeviceName(parsing: "example.com/dev=one")]
        let contributed = try await isolator.prepare(config)
        #expect(contributed?.environment == ["A": "1"])
        try await isolator.isolate(config.containerID, pid: 41)
        #expect(!FileManager.default.fileExists(atPath: log), "the monitor's isolate runs no hook")
        try await isolator.isolate(config.containerID, pid: 42)
        try await isolator.isolate(config.containerID, pid: 42)
        let launched = try String(contentsOfFile: log, encoding: .utf8)
        let lines = launched.split(separator: "\n")
        #expect(lines.filter { !$0.hasPrefix("{") } == ["prestart", "createRuntime", "createContainer", "startContainer", "poststart"], "\(launched)")
        #expect(launched.contains(#"{"bundle":"\#(directory)","id":"hooked","ociVersion":"1.0.2","pid":42,"status":"created"}"#), "\(launched)")
        try await isolator.cleanup(config.containerID)
        let all = try String(contentsOfFile: log, encoding: .utf8)
        #expect(all.hasSuffix("poststop\n" + #"{"bundle":"\#(directory)","id":"hooked","ociVersion":"1.0.2","pid":42,"status":"stopped"}"# + "\n"), "\(all)")
        try await isolator.cleanup(config.containerID)  // idempotent: no second poststop
        #expect(try String(contentsOfFile: log, encoding: .utf8) == all)
    }

    @Test("A hook that fails or outlives its timeout fails the launch, naming the hook, its stage and the timeout")
    func failingHooks() throws {
        let state = CDIHookState(id: "c", status: "created", pid: 1, bundle: "/tmp")
        #expect(CDIScratch.message { try CDIHookRunner.run(CDIHook(stage: .createRuntime, path: "/bin/false"), state: state) }
            == "CDI createRuntime hook /bin/false exited with status 1")
        let slow = CDIHook(stage: .prestart, path: "/bin/sleep", args: ["sleep", "20"], timeoutSeconds: 1)
        let started = ContinuousClock.now
        #expect(CDIScratch.message { try CDIHookRunner.run(slow, state: state) } == "CDI prestart hook /bin/sleep timed out after 1s and was killed")
        #expect(ContinuousClock.now - started < .seconds(10))
        // A hook that leaves a child holding its output behind: the launch goes on at the deadline, and the child is
        // killed with the hook's process group.
        let duration = "300.\(UInt32.random(in: 100_000...999_999))"  // names the child among the host's processes
        let daemonising = CDIHook(stage: .createRuntime, path: "/bin/sh", args: ["sh", "-c", "sleep \(duration) & exit 0"], timeoutSeconds: 1)
        let forked = ContinuousClock.now
        #expect(CDIScratch.message { try CDIHookRunner.run(daemonising, state: state) } == "succeeded")
        #expect(ContinuousClock.now - forked < .seconds(30), "the child holding the hook's stdout did not hold the launch")
        let survivors = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { entry in
            Int32(entry) != nil && ((try? String(contentsOfFile: "/proc/\(entry)/cmdline", encoding: .utf8)) ?? "") == "sleep\u{0}\(duration)\u{0}"
        }
        #expect(survivors.isEmpty, "the hook's child was killed with its group: \(survivors)")
        #expect(CDIScratch.message { try CDIHookRunner.run(CDIHook(stage: .poststart, path: "/nonexistent/hook"), state: state) }
            .hasPrefix("CDI poststart hook /nonexistent/hook could not be started"))
    }

    @Test("capstan-init makes nodes under /dev only, nested ones included, never with '..' or empty components")
    func nodePaths() {
        for path in ["/dev/capstan-one", "/dev/dri/card0", "/dev/a/b/c"] { #expect(InitSpec.DeviceNode.isAllowedPath(path), "\(path)") }
        for path in ["/dev/", "/dev", "/etc/x", "/dev/../etc/passwd", "/dev/a//b", "/dev/./x", "/dev/a/", "dev/x"] {
            #expect(!InitSpec.DeviceNode.isAllowedPath(path), "\(path)")
        }
    }

    @Test("A checkpoint written before CDI devices decodes with none; the new fields round-trip")
    func checkpointCompatibility() throws {
        let old = #"{"containerID": {"value": "c"}, "command": {"shell": true, "value": "true", "arguments": [], "environment": {}}, "sandboxDirectory": "/tmp", "image": {"entrypoint": [], "cmd": [], "env": []}}"#
        let decoded = try JSONDecoder().decode(ContainerConfig.self, from: Data(old.utf8))
        #expect(decoded.cdiDevices.isEmpty && decoded.additionalGids.isEmpty && decoded.imageConfig?.labels == nil)
        var config = decoded
        config.cdiDevices = [try CDIDeviceName(parsing: "example.com/dev=one")]
        config.additionalGids = [44]
        config.imageConfig?.labels = ["cdi.k8s.io/x": "example.com/dev=one"]
        #expect(try JSONDecoder().decode(ContainerConfig.self, from: JSONEncoder().encode(config)) == config)
    }
}
