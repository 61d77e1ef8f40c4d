@testable import CapstanContainerizer
import CapstanCore
import Foundation
import Testing

@Suite("CDIRegistry: spec directories, precedence, per-file errors, and resolving devices into merged edits")
struct CDIRegistryTests {
    static func spec(kind: String = "example.com/dev", devices: [(String, String)], top: String = "{}", version: String = "0.7.0") -> String {
        var text = "cdiVersion: \(version)\nkind: \(kind)\ncontainerEdits: \(top)\ndevices:\n"
        for (name, edits) in devices { text += "  - name: \(name)\n    containerEdits: \(edits)\n" }
        return text
    }

    @Test("JSON, YAML and .yml files all load; other names, subdirectories and a missing directory are skipped")
    func loadsEveryFormat() throws {
        try CDIScratch.with { scratch in
            try scratch.write("etc", "a.yaml", Self.spec(kind: "example.com/a", devices: [("one", "{env: [A=1]}")]))
            try scratch.write("etc", "b.yml", Self.spec(kind: "example.com/b", devices: [("two", "{env: [B=1]}")]))
            try scratch.write("etc", "c.json", #"{"cdiVersion": "0.3.0", "kind": "example.com/c", "devices": [{"name": "three"}]}"#)
            try scratch.write("etc", "notes.txt", "not a spec")
            try FileManager.default.createDirectory(atPath: scratch.path("etc/sub.yaml"), withIntermediateDirectories: true)
            let registry = CDIRegistry.load(directories: [scratch.path("etc"), scratch.path("missing")])
            #expect(registry.errors.isEmpty, "\(registry.errors)")
            #expect(registry.deviceNames.map(\.description) == ["example.com/a=one", "example.com/b=two", "example.com/c=three"])
            #expect(registry.specFiles.map { URL(fileURLWithPath: $0.path).lastPathComponent } == ["a.yaml", "b.yml", "c.json"])
        }
    }

    @Test("The later directory wins for the same device name; its other devices and the earlier one's stay")
    func laterDirectoryWins() throws {
        try CDIScratch.with { scratch in
            try scratch.write("etc", "gpu.yaml", Self.spec(devices: [("0", "{env: [FROM=etc]}"), ("1", "{env: [ONLY=etc]}")]))
            try scratch.write("run", "gpu.json", Self.spec(devices: [("0", "{env: [FROM=run]}")]))
            let registry = CDIRegistry.load(directories: [scratch.path("etc"), scratch.path("run")])
            #expect(registry.errors.isEmpty)
            #expect(try registry.resolve(["example.com/dev=0"]).edits.env == ["FROM=run"])
            #expect(try registry.resolve(["example.com/dev=1"]).edits.env == ["ONLY=etc"])
            #expect(try registry.resolve(["example.com/dev=0"]).specFiles == [scratch.path("run") + "/gpu.json"])
        }
    }

    @Test("Two files of one directory defining a device: both reported, the device refused; a later directory settles it")
    func sameDirectoryConflict() throws {
        try CDIScratch.with { scratch in
            let first = try scratch.write("etc", "a.yaml", Self.spec(devices: [("0", "{env: [A=1]}"), ("1", "{}")]))
            let second = try scratch.write("etc", "b.yaml", Self.spec(devices: [("0", "{env: [B=1]}")]))
            let registry = CDIRegistry.load(directories: [scratch.path("etc")])
            #expect(registry.errors.map(\.path) == [first, second])
            #expect(registry.errors.allSatisfy { $0.error.code == .conflict && $0.description.contains("device example.com/dev=0 is defined by both") })
            #expect(CDIScratch.message { try registry.resolve(["example.com/dev=0"]) }
                == "CDI device example.com/dev=0 is defined by more than one spec in the same directory (\(first), \(second)); remove one")
            #expect(try registry.resolve(["example.com/dev=1"]).devices.map(\.description) == ["example.com/dev=1"])

            try scratch.write("run", "c.yaml", Self.spec(devices: [("0", "{env: [C=1]}")]))
            let settled = CDIRegistry.load(directories: [scratch.path("etc"), scratch.path("run")])
            #expect(try settled.resolve(["example.com/dev=0"]).edits.env == ["C=1"])
        }
    }

    @Test("A malformed spec is reported with its file and field; a good one beside it still resolves")
    func malformedFileDoesNotStopTheOthers() throws {
        try CDIScratch.with { scratch in
            let bad = try scratch.write("etc", "a-bad.yaml", "cdiVersion: 0.7.0\nkind: example.com/bad\ndevices:\n  - name: x\n    containerEdits: {deviceNodes: [{type: c}]}\n")
            let broken = try scratch.write("etc", "b-broken.json", "{\"cdiVersion\": ")
            try scratch.write("etc", "c-good.yaml", Self.spec(devices: [("0", "{env: [GOOD=1]}")]))
            let registry = CDIRegistry.load(directories: [scratch.path("etc")])
            #expect(registry.errors.map(\.description) == [
                "\(bad):5:36: devices[0].containerEdits.deviceNodes[0].path: required",
                "\(broken):2:1: syntax error: did not find expected node content (while parsing a flow node)",
            ])
            #expect(try registry.resolve(["example.com/dev=0"]).edits.env == ["GOOD=1"])
            #expect(CDIScratch.message { try registry.resolve(["example.com/bad=x"]) }.contains("2 spec file error(s) at load, the first: \(bad):5:36"))
        }
    }

    @Test("Resolving two devices merges their edits; the spec-level edits appear once, before the first device's")
    func mergesEdits() throws {
        let file = CDISpecFile(path: "/etc/cdi/gpu.yaml", directoryIndex: 0, spec: try CDISpecDecoder.decode(Array(Self.spec(
            devices: [
                ("0", "{deviceNodes: [{path: /dev/gpu0, type: c, major: 195, minor: 0}, {path: /dev/gpuctl, type: c, major: 195, minor: 255}], env: [GPU0=1]}"),
                ("1", "{deviceNodes: [{path: /dev/gpu1, type: c, major: 195, minor: 1}, {path: /dev/gpuctl, type: c, major: 195, minor: 255}], additionalGids: [44]}"),
            ],
            top: "{env: [DRIVER=1], mounts: [{hostPath: /usr/lib/gpu, containerPath: /usr/local/gpu, options: [ro, bind]}], additionalGids: [44], "
                + "hooks: [{hookName: createContainer, path: /usr/bin/ldconfig}]}").utf8), file: "/etc/cdi/gpu.yaml"))
        let registry = CDIRegistry(directories: ["/etc/cdi"], specFiles: [file])
        let resolution = try registry.resolve(["example.com/dev=0", "example.com/dev=1", "example.com/dev=0"])
        #expect(resolution.devices.map(\.description) == ["example.com/dev=0", "example.com/dev=1"])
        #expect(resolution.specFiles == ["/etc/cdi/gpu.yaml"])
        #expect(resolution.edits.env == ["DRIVER=1", "GPU0=1"])
        #expect(resolution.edits.deviceNodes.map(\.path) == ["/dev/gpu0", "/dev/gpuctl", "/dev/gpu1"])
        #expect(resolution.edits.mounts.map(\.containerPath) == ["/usr/local/gpu"])
        #expect(resolution.edits.hooks.count == 1)
        #expect(resolution.edits.additionalGids == [44])
    }

    @Test("Conflicting edits at one path or for one variable are refused, naming both devices")
    func refusesConflictingEdits() throws {
        let text = Self.spec(devices: [
            ("0", "{deviceNodes: [{path: /dev/x, type: c, major: 1, minor: 3}], mounts: [{hostPath: /a, containerPath: /m}], env: [V=0]}"),
            ("1", "{deviceNodes: [{path: /dev/x, type: c, major: 1, minor: 5}]}"),
            ("2", "{mounts: [{hostPath: /b, containerPath: /m}]}"),
            ("3", "{env: [V=3]}"),
        ])
        let registry = CDIRegistry(
            directories: ["/etc/cdi"], specFiles: [CDISpecFile(path: "/etc/cdi/x.yaml", directoryIndex: 0, spec: try CDISpecDecoder.decode(Array(text.utf8), file: "x"))])
        #expect(CDIScratch.message { try registry.resolve(["example.com/dev=0", "example.com/dev=1"]) }
            == "CDI edits conflict: example.com/dev=0 (/etc/cdi/x.yaml) and example.com/dev=1 (/etc/cdi/x.yaml) both create device node /dev/x, differently")
        #expect(CDIScratch.message { try registry.resolve(["example.com/dev=0", "example.com/dev=2"]) }
            == "CDI edits conflict: example.com/dev=0 (/etc/cdi/x.yaml) and example.com/dev=2 (/etc/cdi/x.yaml) both mount at /m, differently")
        #expect(CDIScratch.message { try registry.resolve(["example.com/dev=0", "example.com/dev=3"]) }
            == "CDI edits conflict: example.com/dev=0 (/etc/cdi/x.yaml) sets 'V=0' and example.com/dev=3 (/etc/cdi/x.yaml) sets 'V=3'")
    }

    @Test("An unknown device names itself and lists its kind's devices; an unknown kind lists the kinds; a bad name says why")
    func unknownDevices() throws {
        let registry = CDIRegistry(
            directories: ["/etc/cdi", "/var/run/cdi"],
            specFiles: [CDISpecFile(path: "/etc/cdi/x.yaml", directoryIndex: 0, spec: try CDISpecDecoder.decode(
                Array(Self.spec(devices: [("b", "{}"), ("a", "{}")]).utf8), file: "x"))])
        #expect(CDIScratch.message { try registry.resolve(["example.com/dev=c"]) }
            == "unknown CDI device example.com/dev=c; the devices of kind example.com/dev are a, b (specs read from /etc/cdi, /var/run/cdi)")
        #expect(CDIScratch.message { try registry.resolve(["other.com/gpu=0"]) }
            == "unknown CDI device other.com/gpu=0: no spec defines kind other.com/gpu; the known kinds are example.com/dev (specs read from /etc/cdi, /var/run/cdi)")
        #expect(CDIScratch.message { try registry.resolve(["example.com/dev/a"]) }
            == "CDI device 'example.com/dev/a' is not fully qualified: expected vendor.com/class=name")
    }
}
