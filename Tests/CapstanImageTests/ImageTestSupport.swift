import CapstanCore
import CapstanImage
import CapstanTestSupport
import Foundation
import Logging
import Testing

/// Scratch directories, processes and prerequisites for the image tests.
enum ImageTestSupport {
    static var logger: Logger {
        var logger = Logger(label: "capstan.image.test")
        logger.logLevel = .warning
        return logger
    }

    /// Runs `body` with a fresh scratch directory, removed afterwards.
    static func withScratch<T>(_ body: (String) async throws -> T) async throws -> T {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-image-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return try await body(dir)
    }

    /// Runs a command to completion; throws with its output when it fails.
    @discardableResult
    static func run(_ arguments: [String], environment: [String: String]? = nil, allowFailure: Bool = false) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0].hasPrefix("/") ? arguments[0] : (Prerequisites.which(arguments[0]) ?? arguments[0]))
        process.arguments = Array(arguments.dropFirst())
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        if process.terminationStatus != 0 && !allowFailure {
            throw CapstanError(.internal, "\(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(output)")
        }
        return (process.terminationStatus, output)
    }

    /// Writes `files` (relative path → contents) under `root`, creating parents.
    static func write(_ files: [String: String], under root: String) throws {
        for (path, text) in files {
            let full = root + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        }
    }

    /// Makes a layer tarball of `directory` with GNU tar (`--xattrs`, numeric owners).
    static func tar(_ directory: String, to archive: String, gzip: Bool = false) throws {
        try run(["tar", "--numeric-owner", "--xattrs", gzip ? "-czf" : "-cf", archive, "-C", directory, "."])
    }

    /// A rootfs tarball holding Debian's static busybox as /bin/busybox, with /bin/sh linking to it.
    static func busyboxRootfs(in scratch: String) throws -> String {
        let root = scratch + "/busybox-rootfs"
        try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Prerequisites.which("busybox")!, toPath: root + "/bin/busybox")
        for applet in ["sh", "ls", "cat", "echo"] { try FileManager.default.createSymbolicLink(atPath: root + "/bin/\(applet)", withDestinationPath: "busybox") }
        try Data("root:x:0:0:root:/root:/bin/sh\n".utf8).write(to: URL(fileURLWithPath: root + "/etc/passwd"))
        let archive = scratch + "/busybox-rootfs.tar"
        try tar(root, to: archive)
        return archive
    }

    /// Every path under `root` with a type letter (f, d, l) and, for files, the contents; symlinks show their target.
    static func tree(_ root: String) throws -> [String: String] {
        var result: [String: String] = [:]
        let fm = FileManager.default
        guard let enumerator = fm.enumerator(atPath: root) else { return [:] }
        while let relative = enumerator.nextObject() as? String {
            let full = root + "/" + relative
            let attributes = try fm.attributesOfItem(atPath: full)
            switch attributes[.type] as? FileAttributeType {
            case .typeDirectory?: result[relative] = "d"
            case .typeSymbolicLink?: result[relative] = "l:" + (try fm.destinationOfSymbolicLink(atPath: full))
            case .typeRegular?: result[relative] = "f:" + (try String(contentsOfFile: full, encoding: .utf8))
            default: result[relative] = "?"
            }
        }
        return result
    }
}

/// Writes an OCI image layout by hand, blob by blob, for tests that need shapes the store does not make
/// (zstd layers, indexes of several platforms).
struct LayoutWriter {
    let directory: String

    init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory + "/blobs/sha256", withIntermediateDirectories: true)
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: directory + "/oci-layout"))
    }

    /// Stores `data` as a blob and describes it.
    func blob(_ data: Data, mediaType: String, platform: Platform? = nil) throws -> Descriptor {
        let digest = Digest.sha256(of: data)
        try data.write(to: URL(fileURLWithPath: directory + "/blobs/sha256/" + digest.encoded))
        return Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count), platform: platform)
    }

    /// Stores `value` as canonical JSON and describes it.
    func json(_ value: some Encodable, mediaType: String, platform: Platform? = nil) throws -> Descriptor {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try blob(try encoder.encode(value), mediaType: mediaType, platform: platform)
    }

    /// An image manifest of `layers` with a config for `platform` that runs `/bin/sh`.
    func image(layers: [(blob: Descriptor, diffID: Digest)], platform: Platform) throws -> (manifest: Descriptor, config: Descriptor) {
        let config = try json(
            ImageConfigFile(platform: platform, config: ImageConfig(cmd: ["/bin/sh"]), diffIDs: layers.map(\.diffID)), mediaType: MediaType.ociConfig)
        let manifest = try json(ImageManifest(config: config, layers: layers.map(\.blob)), mediaType: MediaType.ociManifest, platform: platform)
        return (manifest, config)
    }

    /// Writes `index.json` naming `descriptor` as `tag`.
    func tag(_ descriptor: Descriptor, as tag: String) throws {
        var tagged = descriptor
        tagged.platform = nil
        tagged.annotations = ["org.opencontainers.image.ref.name": tag]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(ImageIndex(manifests: [tagged])).write(to: URL(fileURLWithPath: directory + "/index.json"))
    }
}
