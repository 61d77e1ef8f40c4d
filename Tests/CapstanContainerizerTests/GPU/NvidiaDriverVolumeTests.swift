import CapstanContainerizer
import CapstanCore
import Foundation
import Glibc
import Logging
import Testing

@Suite("NvidiaDriverVolume")
struct NvidiaDriverVolumeTests {
    /// A driver root as `--nvidia-driver-dir` names one: bin/ with nvidia-smi and an unrelated tool, lib64/ with NVML
    /// behind its soname link and an unrelated library, lib/ with libcuda.
    static func driverRoot(_ root: String) throws {
        let files = FileManager.default
        for directory in ["bin", "lib64", "lib", "share"] { try files.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true) }
        try "#!/bin/sh\necho fake\n".write(toFile: root + "/bin/nvidia-smi", atomically: true, encoding: .utf8)
        _ = chmod(root + "/bin/nvidia-smi", 0o755)
        try "#!/bin/sh\n".write(toFile: root + "/bin/other-tool", atomically: true, encoding: .utf8)
        _ = chmod(root + "/bin/other-tool", 0o755)
        try "nvml".write(toFile: root + "/lib64/libnvidia-ml.so.999.99", atomically: true, encoding: .utf8)
        try files.createSymbolicLink(atPath: root + "/lib64/libnvidia-ml.so.1", withDestinationPath: "libnvidia-ml.so.999.99")
        try "other".write(toFile: root + "/lib64/libother.so.1", atomically: true, encoding: .utf8)
        try "cuda".write(toFile: root + "/lib/libcuda.so.1", atomically: true, encoding: .utf8)
        try "not a lib dir".write(toFile: root + "/share/libcuda.so.2", atomically: true, encoding: .utf8)
    }

    static func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-nvvol-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("The volume holds copies of the driver's utilities and libraries (soname links kept), nothing else, under gpu/nvidia-driver-<version>; a second start reuses it")
    func copiesTheDriverFiles() throws {
        let scratch = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try Self.driverRoot(scratch + "/driver")
        let logger = Logger(label: "test")
        let volume = try NvidiaDriverVolume.make(workDir: scratch + "/work", version: "999.99-fake", source: .root(scratch + "/driver"), logger: logger)
        #expect(volume.directory == scratch + "/work/gpu/nvidia-driver-999.99-fake")
        #expect(volume.mount == BindMountSpec(source: volume.directory, target: "/usr/local/nvidia", readOnly: true))
        let files = FileManager.default
        #expect(try files.contentsOfDirectory(atPath: volume.directory + "/bin") == ["nvidia-smi"])
        #expect(access(volume.directory + "/bin/nvidia-smi", X_OK) == 0)
        #expect(try files.contentsOfDirectory(atPath: volume.directory + "/lib64").sorted() == ["libcuda.so.1", "libnvidia-ml.so.1", "libnvidia-ml.so.999.99"])
        #expect(try files.destinationOfSymbolicLink(atPath: volume.directory + "/lib64/libnvidia-ml.so.1") == "libnvidia-ml.so.999.99")
        #expect(try String(contentsOfFile: volume.directory + "/lib64/libnvidia-ml.so.1", encoding: .utf8) == "nvml")
        var info = stat()
        #expect(lstat(volume.directory + "/lib64/libcuda.so.1", &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG, "a copy, not a link to the host")
        #expect(try files.contentsOfDirectory(atPath: scratch + "/work/gpu") == ["nvidia-driver-999.99-fake"], "no staging directory left")

        try "changed".write(toFile: scratch + "/driver/lib/libcuda.so.1", atomically: true, encoding: .utf8)
        let again = try NvidiaDriverVolume.make(workDir: scratch + "/work", version: "999.99-fake", source: .root(scratch + "/driver"), logger: logger)
        #expect(again == volume)
        #expect(try String(contentsOfFile: volume.directory + "/lib64/libcuda.so.1", encoding: .utf8) == "cuda", "made once per driver version")
    }

    @Test("A driver version that cannot name a directory is refused")
    func refusesABadVersion() throws {
        let scratch = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        for version in ["", "..", "1/2", "535 beta"] {
            #expect {
                _ = try NvidiaDriverVolume.make(workDir: scratch, version: version, source: .root(scratch), logger: Logger(label: "test"))
            } throws: { error in
                (error as? CapstanError)?.code == .invalidArgument
            }
        }
        #expect(!FileManager.default.fileExists(atPath: scratch + "/gpu"))
    }
}
