import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

@testable import CapstanContainerizer

@Suite("NVML loaded with dlopen")
struct NVMLLibraryTests {
    /// The fake library, compiled once per test into its own directory.
    static func fake() throws -> (library: String, directory: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-nvml-\(UUID().uuidString.prefix(8))").path
        return (try FakeNVML.build(in: directory), directory)
    }

    @Test("The inventory lists each GPU's index, minor, UUID, name and memory, and the driver version")
    func inventory() throws {
        let (library, directory) = try Self.fake()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let inventory = try NVMLLibrary.inventory(library: library)
        #expect(inventory.driverVersion == "999.99-fake")
        #expect(inventory.devices.map(\.uuid) == ["GPU-fake-0", "GPU-fake-1"])
        #expect(inventory.devices.map(\.minor) == [0, 1])
        #expect(inventory.devices.map(\.devicePath) == ["/dev/nvidia0", "/dev/nvidia1"])
        #expect(inventory.devices.map(\.memoryBytes) == [16 << 30, 24 << 30])
        #expect(inventory.devices[1].name == "Fake GPU 1")
        #expect(inventory.devices.allSatisfy { $0.migDevices.isEmpty }, "no MIG functions in the fake: no MIG devices")
        let usage = try #require(NVMLLibrary.usage(of: "GPU-fake-1", library: library))
        #expect(usage.memoryUsedBytes == 2 << 20 && usage.memoryTotalBytes == 24 << 30 && usage.utilizationPercent == 8)
        #expect(NVMLLibrary.usage(of: "GPU-unknown", library: library) == nil)
        // Several GPUs in one NVML session, in the order asked; one NVML does not know has no measurements.
        #expect(
            NVMLLibrary.usage(of: ["GPU-fake-1", "GPU-unknown", "GPU-fake-0"], library: library) == [
                GPUUsage(uuid: "GPU-fake-1", memoryUsedBytes: 2 << 20, memoryTotalBytes: 24 << 30, utilizationPercent: 8),
                GPUUsage(uuid: "GPU-unknown"),
                GPUUsage(uuid: "GPU-fake-0", memoryUsedBytes: 1 << 20, memoryTotalBytes: 16 << 30, utilizationPercent: 7),
            ])
        #expect(NVMLLibrary.usage(of: ["GPU-fake-0"], library: directory + "/none.so") == [GPUUsage(uuid: "GPU-fake-0")], "no NVML: nothing measured")
    }

    @Test("A missing library, or one without NVML's functions, is an error that says what to do")
    func missing() throws {
        do {
            _ = try NVMLLibrary.inventory(library: "/nonexistent/libnvidia-ml.so.1")
            Issue.record("loaded a library that does not exist")
        } catch {
            #expect(error.message.contains("cannot load NVML (/nonexistent/libnvidia-ml.so.1)"), "\(error.message)")
            #expect(error.message.contains("leave gpu/nvidia out of --isolation"), "\(error.message)")
        }
        // libc is a shared object, but not NVML.
        do {
            _ = try NVMLLibrary.inventory(library: "libc.so.6")
            Issue.record("took libc for NVML")
        } catch {
            #expect(error.message.contains("has no nvmlInit_v2"), "\(error.message)")
        }
    }
}
