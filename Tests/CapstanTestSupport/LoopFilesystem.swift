import Foundation

/// A filesystem image of its own type and options, mounted through a loop device, for tests of what the host's own
/// disks lack (XFS, project quotas). Needs root, `losetup`, `mount` and the type's `mkfs`. ``unmount()`` undoes it all.
public final class LoopFilesystem: @unchecked Sendable {
    /// Why a filesystem could not be made or mounted: the step, the tool's output and the kernel's last word on it.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let type: String
    public let mountPoint: String
    /// The loop device, as mountinfo names the filesystem's source.
    public let device: String
    private let directory: String

    private init(type: String, mountPoint: String, device: String, directory: String) {
        self.type = type
        self.mountPoint = mountPoint
        self.device = device
        self.directory = directory
    }

    /// Makes a `sizeMiB` image of `type` (`mkfs.<type>` with `mkfsOptions`) and mounts it with `mountOptions`.
    /// - Throws: ``Failure`` naming the step that failed; a refused mount carries the kernel's message from dmesg.
    public static func make(type: String, sizeMiB: Int = 300, mkfsOptions: [String] = [], mountOptions: [String] = []) throws -> LoopFilesystem {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-loop-\(UUID().uuidString.prefix(8))").path
        let image = directory + "/image", mountPoint = directory + "/mnt"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        var device: String?
        do {
            guard FileManager.default.createFile(atPath: image, contents: nil),
                let handle = FileHandle(forWritingAtPath: image)
            else { throw Failure(description: "cannot create \(image)") }
            try handle.truncate(atOffset: UInt64(sizeMiB) << 20)
            try handle.close()
            try run("mkfs.\(type)", ["-q"] + mkfsOptions + [image], step: "mkfs.\(type) \(mkfsOptions.joined(separator: " "))")
            let attached = try run("losetup", ["--find", "--show", image], step: "losetup").trimmingCharacters(in: .whitespacesAndNewlines)
            device = attached
            let options = mountOptions.isEmpty ? [] : ["-o", mountOptions.joined(separator: ",")]
            do {
                try run("mount", ["-t", type] + options + [attached, mountPoint], step: "mount -t \(type) \(options.joined(separator: " "))")
            } catch let failure as Failure {
                let name = (attached as NSString).lastPathComponent
                let kernel = run("dmesg", []).output.split(separator: "\n").last { $0.contains("(\(name))") || $0.contains("\(name):") }
                throw Failure(description: failure.description + (kernel.map { "; the kernel said: " + $0.trimmingCharacters(in: .whitespaces) } ?? ""))
            }
            return LoopFilesystem(type: type, mountPoint: mountPoint, device: attached, directory: directory)
        } catch {
            if let device { _ = run("losetup", ["-d", device]) }
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// A filesystem with project quotas on: XFS with `prjquota`, else ext4 made with `-O quota,project` and mounted
    /// with `prjquota`. On a kernel without quota support neither mounts: the failure gives each attempt's reason.
    public static func withProjectQuotas(sizeMiB: Int = 300) -> Result<LoopFilesystem, Failure> {
        var reasons: [String] = []
        for (type, mkfs) in [("xfs", [String]()), ("ext4", ["-O", "quota,project"])] {
            do {
                return .success(try make(type: type, sizeMiB: sizeMiB, mkfsOptions: mkfs, mountOptions: ["prjquota"]))
            } catch {
                reasons.append("\(type): \(error)")
            }
        }
        return .failure(Failure(description: "no filesystem with project quotas can be mounted here (" + reasons.joined(separator: "; ") + ")"))
    }

    /// Unmounts, detaches the loop device and removes the image.
    public func unmount() {
        _ = Self.run("umount", [mountPoint])
        _ = Self.run("losetup", ["-d", device])
        try? FileManager.default.removeItem(atPath: directory)
    }

    @discardableResult
    private static func run(_ program: String, _ arguments: [String], step: String) throws -> String {
        let result = run(program, arguments)
        guard result.status == 0 else {
            let first = result.output.split(separator: "\n").first.map(String.init) ?? ""
            throw Failure(description: "\(step) failed (exit \(result.status)): \(first.trimmingCharacters(in: .whitespaces))")
        }
        return result.output
    }

    private static func run(_ program: String, _ arguments: [String]) -> (status: Int32, output: String) {
        guard let path = Prerequisites.which(program) else { return (127, "\(program) is not installed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        guard (try? process.run()) != nil else { return (126, "cannot start \(path)") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
