@testable import CapstanContainerizer
import CapstanCore
import Foundation
import Testing

@Suite("CDISpecDecoder: strict JSON and YAML, version rules, errors with file, position and field path")
struct CDISpecDecoderTests {
    static func decode(_ text: String, file: String = "/etc/cdi/vendor.yaml") throws -> CDISpec {
        try CDISpecDecoder.decode(Array(text.utf8), file: file)
    }

    /// The message of the error decoding `text` throws, or "decoded" when it decodes.
    static func refusal(_ text: String, file: String = "/etc/cdi/vendor.yaml") -> String {
        do {
            _ = try decode(text, file: file)
            return "decoded"
        } catch let error as CapstanError {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    static let yaml = """
        cdiVersion: 0.7.0
        kind: example.com/gpu
        annotations:
          owner: tests
        containerEdits:
          env: [EXAMPLE_DRIVER=1]
          mounts:
            - hostPath: /usr/lib/example
              containerPath: /usr/local/example
              options: [ro, nosuid, nodev, bind]
          additionalGids: [44, 0]
        devices:
          - name: "0"
            containerEdits:
              deviceNodes:
                - path: /dev/example0
                  hostPath: /dev/null
                  type: c
                  major: 1
                  minor: 3
                  fileMode: 0660
                  permissions: rw
                  uid: 0
                  gid: 44
              hooks:
                - hookName: createContainer
                  path: /usr/bin/example-hook
                  args: [example-hook, link, --device=0]
                  env: [HOOK=1]
                  timeout: 5
          - name: gpu1
            annotations: {bus: "0000:01:00.0"}
        """

    @Test("A YAML spec decodes into every field, with spec-level edits kept apart from the device's")
    func decodesYAML() throws {
        let spec = try Self.decode(Self.yaml)
        #expect(spec.version == .v0_7_0)
        #expect(spec.kind.description == "example.com/gpu")
        #expect(spec.annotations == ["owner": "tests"])
        #expect(spec.devices.map(\.name) == ["0", "gpu1"])
        #expect(spec.containerEdits.env == ["EXAMPLE_DRIVER=1"])
        #expect(spec.containerEdits.additionalGids == [44], "a gid of 0 is ignored, as the spec says")
        #expect(spec.containerEdits.mounts == [CDIMount(hostPath: "/usr/lib/example", containerPath: "/usr/local/example", options: ["ro", "nosuid", "nodev", "bind"])])
        let node = try #require(spec.devices[0].containerEdits.deviceNodes.first)
        #expect(node == CDIDeviceNode(path: "/dev/example0", hostPath: "/dev/null", type: .char, major: 1, minor: 3, fileMode: 0o660, permissions: "rw", uid: 0, gid: 44))
        #expect(spec.devices[0].containerEdits.hooks == [
            CDIHook(stage: .createContainer, path: "/usr/bin/example-hook", args: ["example-hook", "link", "--device=0"], env: ["HOOK=1"], timeoutSeconds: 5)
        ])
        #expect(spec.devices[1].annotations == ["bus": "0000:01:00.0"])
    }

    @Test("A JSON spec decodes the same way, and its errors carry line and column too")
    func decodesJSON() throws {
        let json = """
            {
              "cdiVersion": "0.5.0",
              "kind": "example.com/gpu",
              "devices": [
                {"name": "0", "containerEdits": {"deviceNodes": [{"path": "/dev/example0", "hostPath": "/dev/null", "major": 1, "minor": 3}]}}
              ],
              "containerEdits": {"env": ["A=1"], "hooks": [{"hookName": "poststop", "path": "/bin/true"}]}
            }
            """
        let spec = try Self.decode(json, file: "/etc/cdi/vendor.json")
        #expect(spec.version == .v0_5_0)
        #expect(spec.devices[0].containerEdits.deviceNodes == [CDIDeviceNode(path: "/dev/example0", hostPath: "/dev/null", major: 1, minor: 3)])
        #expect(spec.containerEdits.hooks == [CDIHook(stage: .poststop, path: "/bin/true")])

        let bad = json.replacingOccurrences(of: "\"minor\": 3", with: "\"minor\": \"3\"")
        #expect(Self.refusal(bad, file: "/etc/cdi/vendor.json")
            == "/etc/cdi/vendor.json:5:126: devices[0].containerEdits.deviceNodes[0].minor: must be a number, not a quoted string")
    }

    @Test("An unknown field is refused with the file, its position and its full field path")
    func refusesUnknownField() {
        let text = Self.yaml.replacingOccurrences(of: "hooks:", with: "hookz:")
        #expect(Self.refusal(text) == "/etc/cdi/vendor.yaml:25:7: devices[0].containerEdits.hookz: unknown field; "
            + "the fields here are env, deviceNodes, mounts, hooks, additionalGids, intelRdt, netDevices")
        #expect(Self.refusal("cdiVersion: 0.3.0\nkind: a.com/b\ndevices: [{name: x}]\nextra: 1\n")
            == "/etc/cdi/vendor.yaml:4:1: extra: unknown field; the fields here are cdiVersion, kind, annotations, devices, containerEdits")
    }

    @Test("A missing required field is named by its path")
    func refusesMissingRequired() {
        let text = """
            cdiVersion: 0.3.0
            kind: a.com/b
            devices:
              - name: x
              - name: y
                containerEdits:
                  deviceNodes:
                    - type: c
            """
        #expect(Self.refusal(text) == "/etc/cdi/vendor.yaml:8:11: devices[1].containerEdits.deviceNodes[0].path: required")
        #expect(Self.refusal("cdiVersion: 0.3.0\nkind: a.com/b\n") == "/etc/cdi/vendor.yaml:1:1: devices: required")
        #expect(Self.refusal("kind: a.com/b\ndevices: [{name: x}]\n") == "/etc/cdi/vendor.yaml:1:1: cdiVersion: required")
        #expect(Self.refusal("cdiVersion: 0.3.0\nkind: a.com/b\ndevices: []\n") == "/etc/cdi/vendor.yaml:3:10: devices: at least one device is required")
        #expect(Self.refusal("cdiVersion: 0.4.0\nkind: a.com/b\ndevices: [{name: x, containerEdits: {mounts: [{containerPath: /x}]}}]\n")
            == "/etc/cdi/vendor.yaml:3:47: devices[0].containerEdits.mounts[0].hostPath: required")
    }

    @Test("Each field newer than the declared cdiVersion is refused, naming the version it needs")
    func enforcesVersionRules() {
        func spec(_ version: String, kind: String = "a.com/b", device: String = "{name: x}", top: String = "") -> String {
            "cdiVersion: \(version)\nkind: \(kind)\ndevices: [\(device)]\n\(top)"
        }
        #expect(Self.refusal(spec("0.3.0", device: "{name: x, containerEdits: {mounts: [{hostPath: /a, containerPath: /b, type: bind}]}}"))
            .hasSuffix("devices[0].containerEdits.mounts[0].type: the type of a mount needs cdiVersion 0.4.0 or later; the file declares 0.3.0"))
        #expect(Self.refusal(spec("0.4.0", device: "{name: x, containerEdits: {deviceNodes: [{path: /dev/a, hostPath: /dev/b}]}}"))
            .hasSuffix("deviceNodes[0].hostPath: hostPath needs cdiVersion 0.5.0 or later; the file declares 0.4.0"))
        #expect(Self.refusal(spec("0.4.0", device: "{name: '0'}"))
            .hasSuffix("devices[0].name: a device name starting with a digit needs cdiVersion 0.5.0 or later; the file declares 0.4.0"))
        #expect(Self.refusal(spec("0.5.0", top: "annotations: {a: b}\n"))
            .hasSuffix("annotations: annotations needs cdiVersion 0.6.0 or later; the file declares 0.5.0"))
        #expect(Self.refusal(spec("0.5.0", kind: "a.com/b.c"))
            .hasSuffix("kind: a '.' in the class of kind needs cdiVersion 0.6.0 or later; the file declares 0.5.0"))
        #expect(Self.refusal(spec("0.6.0", top: "containerEdits: {additionalGids: [5]}\n"))
            == "/etc/cdi/vendor.yaml:4:34: containerEdits.additionalGids: additionalGids needs cdiVersion 0.7.0 or later; the file declares 0.6.0")
        #expect(Self.refusal(spec("0.6.0", device: "{name: x, containerEdits: {intelRdt: {closID: c}}}"))
            .hasSuffix("devices[0].containerEdits.intelRdt: intelRdt needs cdiVersion 0.7.0 or later; the file declares 0.6.0"))
        #expect(Self.refusal(spec("1.0.0", top: "containerEdits: {netDevices: [{hostInterfaceName: eth1, name: net0}]}\n"))
            .hasSuffix("containerEdits.netDevices: netDevices needs cdiVersion 1.1.0 or later; the file declares 1.0.0"))
        #expect(Self.refusal(spec("1.1.0", top: "containerEdits: {intelRdt: {enableCMT: true}}\n"))
            .contains("containerEdits.intelRdt.enableCMT: unknown field"), "enableCMT was dropped in 1.1.0")
        // Empty values need nothing, as the reference library's checks read them.
        #expect(Self.refusal(spec("0.3.0", top: "annotations: {}\ncontainerEdits: {additionalGids: []}\n")) == "decoded")
        #expect(Self.refusal(spec("0.7.0", top: "containerEdits: {additionalGids: [5], intelRdt: {enableCMT: true}}\n")) == "decoded")
        #expect(Self.refusal(spec("v0.6.0", top: "annotations: {a: b}\n")) == "decoded", "a leading v is accepted")
    }

    @Test("Unknown, pre-0.3.0 and malformed versions are refused")
    func refusesUnknownVersions() {
        #expect(Self.refusal("cdiVersion: 0.9.0\nkind: a.com/b\ndevices: [{name: x}]\n")
            == "/etc/cdi/vendor.yaml:1:13: cdiVersion: '0.9.0' is not a CDI version Capstan knows (0.3.0, 0.4.0, 0.5.0, 0.6.0, 0.7.0, 0.8.0, 1.0.0, 1.1.0)")
        #expect(Self.refusal("cdiVersion: 0.2.0\nkind: a.com/b\ndevices: [{name: x}]\n").contains("pre-0.3.0 schema"))
        #expect(Self.refusal("cdiVersion: [1]\nkind: a.com/b\ndevices: [{name: x}]\n").hasSuffix("cdiVersion: must be a string, not a list or mapping"))
    }

    @Test("Kinds and device names follow the spec's character rules; '/' and '=' in the wrong place are refused")
    func validatesNames() throws {
        #expect(Self.refusal("cdiVersion: 0.6.0\nkind: vendor.com/foo/bar\ndevices: [{name: x}]\n")
            .hasSuffix("kind: kind 'vendor.com/foo/bar' is not of the form vendor.com/class (exactly one '/')"))
        #expect(Self.refusal("cdiVersion: 0.6.0\nkind: foo\ndevices: [{name: x}]\n").contains("is not of the form vendor.com/class"))
        #expect(Self.refusal("cdiVersion: 0.6.0\nkind: 1vendor.com/foo\ndevices: [{name: x}]\n").hasSuffix("the vendor of kind '1vendor.com/foo' must start with a letter"))
        #expect(Self.refusal("cdiVersion: 0.6.0\nkind: vendor.com/foo\ndevices: [{name: a/b}]\n")
            .hasSuffix("devices[0].name: 'a/b' holds '/'; only letters, digits, '-', '_', '.' and ':' are allowed"))
        #expect(Self.refusal("cdiVersion: 0.6.0\nkind: vendor.com/foo\ndevices: [{name: x-}]\n").hasSuffix("must end with a letter or digit"))
        #expect(Self.refusal("cdiVersion: 0.6.0\nkind: vendor.com/foo\ndevices: [{name: \"g\u{E9}pu\"}]\n").hasSuffix("holds 'U+E9'; only letters, digits, '-', '_', '.' and ':' are allowed"))
        #expect(Self.refusal("cdiVersion: 0.6.0\nkind: vendor.com/foo\ndevices: [{name: x}, {name: x}]\n")
            .hasSuffix("devices[1].name: 'x' is already the name of devices[0]"))
        #expect(Self.refusal("cdiVersion: 0.6.0\nkind: vendor.com/\(String(repeating: "c", count: 64))\ndevices: [{name: x}]\n")
            .contains("is longer than 63 characters"))

        let name = try CDIDeviceName(parsing: "nvidia.com/gpu=GPU-1a2b:0")
        #expect(name.kind.vendor == "nvidia.com" && name.kind.class == "gpu" && name.name == "GPU-1a2b:0")
        for bad in ["nvidia.com/gpu", "nvidia.com/gpu=", "nvidia.com=0", "/dev/nvidia0", "nvidia.com/gpu/x=0", "nvidia.com/gpu=0/1", "nvidia.com/gpu=a=b"] {
            #expect(throws: CapstanError.self, "\(bad)") { try CDIDeviceName(parsing: bad) }
        }
    }

    @Test("Hostile values are refused: '..' and relative paths, '/' as a destination, absurd numbers and sizes")
    func refusesHostileInput() {
        func edits(_ edits: String, version: String = "0.7.0") -> String {
            "cdiVersion: \(version)\nkind: a.com/b\ndevices: [{name: x}]\ncontainerEdits: \(edits)\n"
        }
        #expect(Self.refusal(edits("{mounts: [{hostPath: /lib, containerPath: lib}]}"))
            .hasSuffix("containerEdits.mounts[0].containerPath: 'lib' must be an absolute path"))
        #expect(Self.refusal(edits("{mounts: [{hostPath: /lib, containerPath: /usr/../../etc}]}"))
            .hasSuffix("containerEdits.mounts[0].containerPath: '/usr/../../etc' must not contain '..'"))
        #expect(Self.refusal(edits("{mounts: [{hostPath: /etc/../root, containerPath: /x, options: [bind]}]}"))
            .hasSuffix("containerEdits.mounts[0].hostPath: '/etc/../root' must not contain '..'"))
        #expect(Self.refusal(edits("{mounts: [{hostPath: /lib, containerPath: /}]}")).hasSuffix("containerEdits.mounts[0].containerPath: must not be '/'"))
        #expect(Self.refusal(edits("{deviceNodes: [{path: dev/x}]}")).hasSuffix("containerEdits.deviceNodes[0].path: 'dev/x' must be an absolute path"))
        #expect(Self.refusal(edits("{deviceNodes: [{path: /dev/../etc/shadow}]}")).hasSuffix("must not contain '..'"))
        #expect(Self.refusal(edits("{hooks: [{hookName: prestart, path: bin/hook}]}")).hasSuffix("containerEdits.hooks[0].path: 'bin/hook' must be an absolute path"))
        #expect(Self.refusal(edits("{hooks: [{hookName: preStart, path: /bin/hook}]}")).contains("'preStart' is not a hook name"))
        #expect(Self.refusal(edits("{hooks: [{hookName: prestart, path: /bin/hook, timeout: 0}]}")).hasSuffix("timeout: 0 is out of range (1 to 3600)"))
        #expect(Self.refusal(edits("{hooks: [{hookName: prestart, path: /bin/hook, timeout: 99999999999}]}")).contains("out of range"))
        #expect(Self.refusal(edits("{deviceNodes: [{path: /dev/x, major: 4096}]}")).hasSuffix("major: 4096 is out of range (0 to 4095)"))
        #expect(Self.refusal(edits("{deviceNodes: [{path: /dev/x, minor: -1}]}")).hasSuffix("minor: -1 is out of range (0 to 1048575)"))
        #expect(Self.refusal(edits("{deviceNodes: [{path: /dev/x, major: 99999999999999999999999}]}")).contains("is not a whole number"))
        #expect(Self.refusal(edits("{deviceNodes: [{path: /dev/x, fileMode: 0o20666}]}")).contains("fileMode: 0o20666 is out of range"))
        #expect(Self.refusal(edits("{deviceNodes: [{path: /dev/x, type: z}]}")).contains("'z' is not a device type"))
        #expect(Self.refusal(edits("{deviceNodes: [{path: /dev/x, permissions: rwx}]}")).contains("'rwx' must be some of r, w and m, or none"))
        #expect(Self.refusal(edits("{additionalGids: [4294967296]}")).contains("out of range"))
        #expect(Self.refusal(edits("{env: [=oops]}")).hasSuffix("containerEdits.env[0]: '=oops' is not of the form KEY=value"))
        #expect(Self.refusal(edits("{env: [\"A=\\0b\"]}")).hasSuffix("containerEdits.env[0]: must not contain a NUL character"))

        let deep = "cdiVersion: 0.3.0\nkind: a.com/b\ndevices: [{name: x}]\nannotations: " + String(repeating: "[", count: 5000)
        #expect(Self.refusal(deep).contains("nested more than 16 levels deep"))
        #expect(Self.refusal("a: &x [1]\nb: *x\n").contains("YAML aliases are not accepted"))
        #expect(Self.refusal("cdiVersion: 0.3.0\ncdiVersion: 0.4.0\n") == "/etc/cdi/vendor.yaml:2:1: duplicate key 'cdiVersion'")
        #expect(Self.refusal("cdiVersion: 0.3.0\n---\ncdiVersion: 0.3.0\n").contains("holds one document"))
        // libyaml places an error at the end of the input on the line after it.
        #expect(Self.refusal("{\"cdiVersion\": ") == "/etc/cdi/vendor.yaml:2:1: syntax error: did not find expected node content (while parsing a flow node)")
        #expect(Self.refusal("") == "/etc/cdi/vendor.yaml: the file is empty; a CDI spec needs cdiVersion, kind and devices")
        let huge = [UInt8](repeating: UInt8(ascii: " "), count: CDILimits.standard.maximumFileBytes + 1)
        #expect(throws: CapstanError.self) { try CDISpecDecoder.decode(huge, file: "/x.yaml") }
    }

    @Test("Every truncation of a valid spec, and deep block nesting, end in an error or a spec, never a crash")
    func truncationsNeverCrash() {
        let bytes = Array(Self.yaml.utf8)
        var decoded = 0
        for length in 0...bytes.count {
            do {
                _ = try CDISpecDecoder.decode(Array(bytes.prefix(length)), file: "t.yaml")
                decoded += 1
            } catch let error as CapstanError {
                #expect(error.message.hasPrefix("t.yaml"), "\(error.message)")
            } catch {
                Issue.record("not a CapstanError: \(error)")
            }
        }
        #expect(decoded >= 1)
        let block = "cdiVersion: 0.3.0\nkind: a.com/b\ndevices: [{name: x}]\nannotations:\n" + String(repeating: "- ", count: 20_000) + "x\n"
        #expect(Self.refusal(block).contains("deep"))
    }

    @Test("Paths are normalized; permissions 'none' is an empty access, octal modes read as YAML 1.1 and 0o forms")
    func normalizes() throws {
        let spec = try Self.decode("""
            cdiVersion: 0.5.0
            kind: a.com/b
            devices:
              - name: x
                containerEdits:
                  deviceNodes:
                    - {path: //dev/./x//, permissions: none, fileMode: 0o644}
                    - {path: /dev/y, permissions: mwr, fileMode: 420}
                  mounts:
                    - {hostPath: tmpfs, containerPath: /run/x/, type: tmpfs, options: [size=1m]}
            """)
        let nodes = spec.devices[0].containerEdits.deviceNodes
        #expect(nodes.map(\.path) == ["/dev/x", "/dev/y"])
        #expect(nodes.map(\.permissions) == ["", "rwm"])
        #expect(nodes.map(\.fileMode) == [0o644, 0o644])
        #expect(spec.devices[0].containerEdits.mounts == [CDIMount(hostPath: "tmpfs", containerPath: "/run/x", type: "tmpfs", options: ["size=1m"])])
    }
}
