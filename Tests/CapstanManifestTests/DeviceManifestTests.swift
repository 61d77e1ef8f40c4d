import CapstanCore
import CapstanManifest
import Testing

@Suite("Manifests: devices (CDI names)")
struct DeviceManifestTests {
    @Test func devicesAreFullyQualifiedCDINamesAndChangeTheTemplateOnlyWhenGiven() throws {
        let plain = ManifestLoader.load([ManifestFile(path: "apps/web.yaml", text: header)])
        let withDevices = ManifestLoader.load([
            ManifestFile(path: "apps/web.yaml", text: header + "  devices: [vendor.example/gpu=0, \"vendor.example/gpu=all\"]\n")
        ])
        #expect(withDevices.diagnostics.isEmpty, "\(withDevices.diagnostics)")
        let spec = try #require(withDevices.workloads.first?.spec)
        #expect(spec.devices.map(\.description) == ["vendor.example/gpu=0", "vendor.example/gpu=all"])
        #expect(InstanceDemand(spec).devices == ["vendor.example/gpu=0", "vendor.example/gpu=all"])
        // An app without devices keeps the template label it had: adding the field restarts nothing.
        let label = try #require(plain.workloads.first?.templateLabel)
        #expect(plain.workloads.first?.spec.devices.isEmpty == true)
        #expect(label != withDevices.workloads.first?.templateLabel, "asking for a device is a change of what a task runs")
    }

    @Test func badNamesAreReportedAtTheItem() {
        #expect(diagnostics(header + "  devices: [gpu0]\n") == [
            "apps/web.yaml:7:13: spec.devices[0]: CDI device 'gpu0' is not fully qualified: expected vendor.com/class=name"
        ])
        let found = diagnostics(header + "  devices: [vendor.example/gpu=0, vendor.example/gpu=0, vendor/x=../etc]\n")
        #expect(found.count == 2, "\(found)")
        #expect(found.first == "apps/web.yaml:7:35: spec.devices[1]: 'vendor.example/gpu=0' is listed twice", "\(found)")
        #expect(found.last?.contains("spec.devices[2]: CDI device 'vendor/x=../etc': device name '../etc' must start with a letter or digit") == true, "\(found)")
        #expect(diagnostics(header + "  devices: vendor.example/gpu=0\n").first?.contains("spec.devices: expected a list") == true)
    }
}
