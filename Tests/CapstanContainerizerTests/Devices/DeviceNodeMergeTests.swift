import CapstanContainerizer
import CapstanCore
import Testing

@Suite("Device nodes from several isolators")
struct DeviceNodeMergeTests {
    @Test("A node given twice the same way is kept once with both accesses; two devices at one path are refused, naming both")
    func merge() throws {
        let gpu = DeviceNodeSpec(path: "/dev/nvidia0", major: 195, minor: 0, access: [.read])
        let sameFromCDI = DeviceNodeSpec(path: "/dev/nvidia0", major: 195, minor: 0, access: [.write])
        let other = DeviceNodeSpec(path: "/dev/other", major: 60, minor: 1)
        let merged = try DeviceNodeSpec.merge([gpu], [sameFromCDI, other], from: "devices/cdi")
        #expect(merged.map(\.path) == ["/dev/nvidia0", "/dev/other"])
        #expect(merged[0].access == [.read, .write])
        #expect {
            _ = try DeviceNodeSpec.merge([gpu], [DeviceNodeSpec(path: "/dev/nvidia0", major: 195, minor: 1)], from: "devices/cdi")
        } throws: { error in
            (error as? CapstanError)?.message == "device node /dev/nvidia0 is asked for twice as different devices: c 195:0 and, from devices/cdi, c 195:1"
        }
    }
}
