@testable import CapstanContainerizer
import CapstanCore
import Foundation
import Testing

@Suite("CDIDevicePlan: nodes, cgroup device rules, mounts, env, gids and hooks for the launcher")
struct CDIDevicePlanTests {
    /// A fake host: /dev/fake0 (c 195:0, 0620), /dev/fake-block (b 8:1), /dev/fake-fifo; anything else is missing.
    static let fakeHost: CDIHostDevice.Lookup = { path in
        switch path {
        case "/dev/fake0": return CDIHostDevice(type: .char, major: 195, minor: 0, fileMode: 0o620)
        case "/dev/fake-block": return CDIHostDevice(type: .block, major: 8, minor: 1, fileMode: 0o660)
        case "/dev/fake-fifo": return CDIHostDevice(type: .fifo, major: 0, minor: 0, fileMode: 0o600)
        default: throw CapstanError(.notFound, "no \(path)")
        }
    }

    @Test("devices.allow lines carry the spec's permissions (default rwm); 'none' gets no rule; a FIFO gets none")
    func cgroupRules() throws {
        let edits = CDIContainerEdits(deviceNodes: [
            CDIDeviceNode(path: "/dev/nvidia0", type: .char, major: 195, minor: 0),
            CDIDeviceNode(path: "/dev/nvidiactl", type: .char, major: 195, minor: 255, permissions: "rw"),
            CDIDeviceNode(path: "/dev/sda1", type: .block, major: 8, minor: 1, permissions: "r"),
            CDIDeviceNode(path: "/dev/alias", type: .unbufferedChar, major: 195, minor: 255, permissions: "m"),
            CDIDeviceNode(path: "/dev/hidden", type: .char, major: 10, minor: 200, permissions: ""),
            CDIDeviceNode(path: "/run/pipe", type: .fifo),
        ])
        let plan = try CDIDevicePlan(edits, lookup: Self.fakeHost)
        #expect(plan.devicesAllowLines == ["c 195:0 rwm", "c 195:255 rwm", "b 8:1 r"])
        #expect(plan.deviceNodes.map(\.path) == ["/dev/nvidia0", "/dev/nvidiactl", "/dev/sda1", "/dev/alias", "/dev/hidden", "/run/pipe"])
        #expect(plan.deviceNodes.allSatisfy { $0.fileMode == 0o666 }, "no mode in the spec and none on the host: 0666")
    }

    @Test("Missing type, major and minor come from the host lookup; the mode too when the spec gives none")
    func statDerivedNumbers() throws {
        let edits = CDIContainerEdits(deviceNodes: [
            CDIDeviceNode(path: "/dev/gpu0", hostPath: "/dev/fake0", uid: 1000, gid: 44),
            CDIDeviceNode(path: "/dev/disk", hostPath: "/dev/fake-block", type: .block, fileMode: 0o600),
            CDIDeviceNode(path: "/dev/fake-fifo"),
        ])
        let plan = try CDIDevicePlan(edits, lookup: Self.fakeHost)
        #expect(plan.deviceNodes == [
            CDIPlannedDeviceNode(path: "/dev/gpu0", hostPath: "/dev/fake0", type: .char, major: 195, minor: 0, fileMode: 0o620, uid: 1000, gid: 44),
            CDIPlannedDeviceNode(path: "/dev/disk", hostPath: "/dev/fake-block", type: .block, major: 8, minor: 1, fileMode: 0o600, uid: nil, gid: nil),
            CDIPlannedDeviceNode(path: "/dev/fake-fifo", hostPath: "/dev/fake-fifo", type: .fifo, major: 0, minor: 0, fileMode: 0o600, uid: nil, gid: nil),
        ])
        #expect(plan.devicesAllowLines == ["c 195:0 rwm", "b 8:1 rwm"])
    }

    @Test("A node the host lacks is fine when fully given, refused when it needs the host; a type mismatch is refused")
    func hostLookupFailures() throws {
        let given = try CDIDevicePlan(CDIContainerEdits(deviceNodes: [CDIDeviceNode(path: "/dev/absent", type: .char, major: 511)]), lookup: Self.fakeHost)
        #expect(given.devicesAllowLines == ["c 511:0 rwm"])
        #expect(throws: CapstanError.self) { try CDIDevicePlan(CDIContainerEdits(deviceNodes: [CDIDeviceNode(path: "/dev/absent")]), lookup: Self.fakeHost) }
        do {
            _ = try CDIDevicePlan(CDIContainerEdits(deviceNodes: [CDIDeviceNode(path: "/dev/x", hostPath: "/dev/fake-block", type: .char)]), lookup: Self.fakeHost)
            Issue.record("a char node over a block device was accepted")
        } catch let error as CapstanError {
            #expect(error.message == "CDI device node /dev/x: the spec says type c but /dev/fake-block is b")
        }
    }

    @Test("The real lookup reads /dev/null as c 1:3 and refuses a regular file")
    func systemLookup() throws {
        let null = try CDIHostDevice.system("/dev/null")
        #expect(null.type == .char && null.major == 1 && null.minor == 3)
        #expect(throws: CapstanError.self) { try CDIHostDevice.system("/etc/hostname") }
    }

    @Test("Mounts, env, gids and hooks grouped by stage with their timeouts; intelRdt and netDevices are refused")
    func everythingElse() throws {
        let edits = CDIContainerEdits(
            env: ["A=1"],
            mounts: [
                CDIMount(hostPath: "/usr/lib/gpu", containerPath: "/usr/local/gpu", options: ["ro", "nosuid", "bind"]),
                CDIMount(hostPath: "tmpfs", containerPath: "/run/gpu", type: "tmpfs", options: ["size=1m"]),
            ],
            hooks: [
                CDIHook(stage: .createContainer, path: "/usr/bin/hook", args: ["hook", "one"], timeoutSeconds: 5),
                CDIHook(stage: .poststop, path: "/usr/bin/cleanup"),
                CDIHook(stage: .createContainer, path: "/usr/bin/hook2"),
            ],
            additionalGids: [44, video])
        let plan = try CDIDevicePlan(edits, lookup: Self.fakeHost)
        #expect(plan.env == ["A=1"])
        #expect(plan.additionalGids == [44, video])
        #expect(plan.mounts == [
            CDIPlannedMount(source: "/usr/lib/gpu", destination: "/usr/local/gpu", type: "bind", options: ["ro", "nosuid", "bind"], isBind: true),
            CDIPlannedMount(source: "tmpfs", destination: "/run/gpu", type: "tmpfs", options: ["size=1m"], isBind: false),
        ])
        #expect(plan.mounts[0].isReadOnly && !plan.mounts[1].isReadOnly)
        #expect(plan.hooks[.createContainer]?.map(\.path) == ["/usr/bin/hook", "/usr/bin/hook2"])
        #expect(plan.hooks[.createContainer]?.first?.timeout == .seconds(5))
        #expect(plan.hooks[.createContainer]?.last?.args == ["/usr/bin/hook2"], "argv defaults to the path")
        #expect(plan.hooks[.poststop]?.first?.timeout == nil)
        #expect(plan.hooks[.prestart] == nil)

        #expect(throws: CapstanError.self) { try CDIDevicePlan(CDIContainerEdits(intelRdt: CDIIntelRdt(closID: "c")), lookup: Self.fakeHost) }
        #expect(throws: CapstanError.self) {
            try CDIDevicePlan(CDIContainerEdits(netDevices: [CDINetDevice(hostInterfaceName: "eth1", name: "net0")]), lookup: Self.fakeHost)
        }
    }

    private var video: UInt32 { 39 }

    /// The shape `nvidia-ctk cdi generate` writes (cdiVersion 0.5.0, shared nodes and the driver's hook at spec
    /// level, each GPU's nodes in its device), with numbers from a faked host.
    static let nvidiaShaped = """
        ---
        cdiVersion: 0.5.0
        kind: nvidia.com/gpu
        devices:
        - name: "0"
          containerEdits:
            deviceNodes:
            - path: /dev/nvidia0
            - path: /dev/dri/card1
        - name: "1"
          containerEdits:
            deviceNodes:
            - path: /dev/nvidia1
        containerEdits:
          env:
          - NVIDIA_VISIBLE_DEVICES=void
          deviceNodes:
          - path: /dev/nvidiactl
          - path: /dev/nvidia-uvm
          - path: /dev/nvidia-uvm-tools
          hooks:
          - hookName: createContainer
            path: /usr/bin/nvidia-cdi-hook
            args: [nvidia-cdi-hook, create-symlinks, --link, libcuda.so.1::/usr/lib/x86_64-linux-gnu/libcuda.so]
          mounts:
          - hostPath: /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15
            containerPath: /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15
            options: [ro, nosuid, nodev, bind]
        """

    @Test("An NVIDIA-shaped spec in a spec directory resolves GPU 0 to exactly its nodes plus the shared ones")
    func nvidiaShapedSpec() throws {
        let host: CDIHostDevice.Lookup = { path in
            let numbers: [String: (Int64, Int64)] = [
                "/dev/nvidia0": (195, 0), "/dev/nvidia1": (195, 1), "/dev/nvidiactl": (195, 255), "/dev/nvidia-uvm": (509, 0),
                "/dev/nvidia-uvm-tools": (509, 1), "/dev/dri/card1": (226, 1),
            ]
            guard let (major, minor) = numbers[path] else { throw CapstanError(.notFound, "no \(path)") }
            return CDIHostDevice(type: .char, major: major, minor: minor, fileMode: 0o666)
        }
        try CDIScratch.with { scratch in
            try scratch.write("run", "nvidia.yaml", Self.nvidiaShaped)
            let registry = CDIRegistry.load(directories: [scratch.path("etc"), scratch.path("run")])
            #expect(registry.errors.isEmpty, "\(registry.errors)")
            let plan = try CDIDevicePlan(try registry.resolve(["nvidia.com/gpu=0"]).edits, lookup: host)
            #expect(plan.devicesAllowLines == ["c 195:255 rwm", "c 509:0 rwm", "c 509:1 rwm", "c 195:0 rwm", "c 226:1 rwm"])
            #expect(plan.env == ["NVIDIA_VISIBLE_DEVICES=void"])
            #expect(plan.hooks[.createContainer]?.first?.args.prefix(2) == ["nvidia-cdi-hook", "create-symlinks"])
            #expect(plan.mounts.map(\.isReadOnly) == [true])
        }
    }
}
