import ArgumentParser
import CapstanCore
import CapstanImage
import Foundation
import Glibc
import Logging

/// `capstan bench pull`: pull and unpack of a ~200 MB three-layer image from a local registry, Capstan's image store
/// against `skopeo copy` + `umoci unpack`, side by side in one run.
struct BenchPull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Time pull + unpack of a ~200 MB 3-layer image from a local registry: Capstan vs skopeo copy + umoci unpack.",
        discussion: """
            Builds an image of three gzip layers (incompressible random files, compressible text, many small files), \
            pushes it with skopeo to a docker-registry started on 127.0.0.1 (or to --registry), then alternates, each \
            iteration with nothing cached: Capstan's image store pulling into a fresh store and unpacking every layer \
            (digests verified, layers downloaded and unpacked in parallel, blobs fsynced), and `skopeo copy \
            docker://… oci:DIR` followed by `umoci unpack`. Prints the medians and the ratio Capstan/peer.
            """)

    @Option(help: "Approximate uncompressed image size in MB.") var sizeMB: Int = 200
    @Option(help: "Timed iterations of each.") var iterations: Int = 5
    @Option(help: "Use this registry HOST:PORT (plain HTTP) instead of starting docker-registry.") var registry: String?
    @Option(help: "Scratch directory (default: a new one under /tmp, removed afterwards).") var scratch: String?

    func run() async throws {
        for tool in ["skopeo", "umoci", "tar", "gzip"] + (registry == nil ? ["docker-registry"] : []) where Self.which(tool) == nil {
            throw ValidationError("capstan bench pull needs \(tool) on PATH (apt-get install \(tool == "docker-registry" ? "docker-registry" : tool))")
        }
        let scratch = self.scratch ?? "/tmp/capstan-bench-pull-\(getpid())"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { if self.scratch == nil { try? FileManager.default.removeItem(atPath: scratch) } }

        print("building a \(sizeMB) MB 3-layer image…")
        let image = try BenchImage.build(in: scratch + "/image", sizeMB: sizeMB)
        var registryProcess: Process?
        let host: String
        if let registry {
            host = registry
        } else {
            let started = try await Self.startRegistry(in: scratch + "/registry")
            registryProcess = started.process
            host = started.host
        }
        defer {
            if let registryProcess, registryProcess.isRunning {
                kill(registryProcess.processIdentifier, SIGTERM)
                registryProcess.waitUntilExit()
            }
        }
        let repository = "\(host)/capstan-bench/pull:1"
        try Self.run(["skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false", "oci:\(image.layout):bench", "docker://\(repository)"])
        print("image: 3 layers, \(humanBytes(image.uncompressed)) uncompressed, \(humanBytes(image.compressed)) compressed, at \(repository)")

        var capstan: [Double] = []
        var peer: [Double] = []
        for iteration in 1...max(1, iterations) {
            let directory = scratch + "/run-\(iteration)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // Alternate who goes first, so neither always meets the warmer machine.
            var times: (capstan: Double, peer: Double) = (0, 0)
            if iteration % 2 == 1 {
                times.capstan = try await Self.timeCapstan(repository, host: host, store: directory + "/capstan")
                times.peer = try Self.timePeer(repository, layout: directory + "/oci", bundle: directory + "/bundle")
            } else {
                times.peer = try Self.timePeer(repository, layout: directory + "/oci", bundle: directory + "/bundle")
                times.capstan = try await Self.timeCapstan(repository, host: host, store: directory + "/capstan")
            }
            capstan.append(times.capstan)
            peer.append(times.peer)
            print(String(format: "iteration %d: capstan %.2f s, skopeo+umoci %.2f s", iteration, times.capstan, times.peer))
            try? FileManager.default.removeItem(atPath: directory)
        }
        let capstanMedian = Self.median(capstan), peerMedian = Self.median(peer)
        print(String(format: "capstan pull+unpack:        median %.2f s (min %.2f, max %.2f)", capstanMedian, capstan.min()!, capstan.max()!))
        print(String(format: "skopeo copy + umoci unpack: median %.2f s (min %.2f, max %.2f)", peerMedian, peer.min()!, peer.max()!))
        print(String(format: "ratio capstan/peer: %.2f (goal <= 1.0)", capstanMedian / peerMedian))
    }

    /// Seconds for a fresh store to pull `repository` and unpack all its layers.
    static func timeCapstan(_ repository: String, host: String, store root: String) async throws -> Double {
        let logger = Logger(label: "capstan.bench.pull") { _ in SwiftLogNoOpLogHandler() }
        let store = try ImageStore(root: root, options: RegistryOptions(insecureRegistries: [host], authFiles: []), logger: logger)
        let start = ContinuousClock.now
        let (layers, _) = try await store.rootfsLayers(for: "docker://" + repository)
        let elapsed = (ContinuousClock.now - start).benchSeconds
        guard layers.count == 3 else { throw CapstanError(.internal, "capstan unpacked \(layers.count) layers, expected 3") }
        return elapsed
    }

    /// Seconds for `skopeo copy` into an OCI layout plus `umoci unpack` of it.
    static func timePeer(_ repository: String, layout: String, bundle: String) throws -> Double {
        let start = ContinuousClock.now
        try run(["skopeo", "--insecure-policy", "copy", "-q", "--src-tls-verify=false", "docker://\(repository)", "oci:\(layout):bench"])
        try run(["umoci", "unpack"] + (geteuid() == 0 ? [] : ["--rootless"]) + ["--image", "\(layout):bench", bundle])
        return (ContinuousClock.now - start).benchSeconds
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// Starts Debian's docker-registry on a free 127.0.0.1 port and waits (at most 10 s) until it accepts connections.
    static func startRegistry(in directory: String) async throws -> (process: Process, host: String) {
        try FileManager.default.createDirectory(atPath: directory + "/storage", withIntermediateDirectories: true)
        let port = freePort()
        let config = """
            version: 0.1
            log:
              level: error
            storage:
              filesystem:
                rootdirectory: \(directory)/storage
            http:
              addr: 127.0.0.1:\(port)

            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: directory + "/config.yml"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: which("docker-registry")!)
        process.arguments = ["serve", directory + "/config.yml"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline && process.isRunning {
            if canConnect(port: port) { return (process, "127.0.0.1:\(port)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        throw CapstanError(.unavailable, "docker-registry did not start on 127.0.0.1:\(port)")
    }

    static func which(_ name: String) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/sbin:/usr/bin:/sbin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs a tool to completion, its output to a log file; throws with the log when it fails.
    static func run(_ arguments: [String], stdout: String? = nil) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: which(arguments[0]) ?? arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-bench-\(UUID().uuidString.prefix(8)).log").path
        FileManager.default.createFile(atPath: log, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: log) }
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        defer { try? logHandle.close() }
        if let stdout {
            FileManager.default.createFile(atPath: stdout, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdout))
        } else {
            process.standardOutput = logHandle
        }
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw CapstanError(.internal, "\(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(text.suffix(2000))")
        }
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 ? getsockname(fd, pointer, &length) : -1
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}

/// The benchmark image: three gzip layers written as an OCI image layout tagged `bench`.
struct BenchImage {
    let layout: String
    let uncompressed: Int64
    let compressed: Int64

    /// Half the size in incompressible random files, 30% in compressible text, 20% in 4 kB–16 kB small files.
    static func build(in directory: String, sizeMB: Int) throws -> BenchImage {
        let fm = FileManager.default
        let layout = directory + "/layout"
        try fm.createDirectory(atPath: layout + "/blobs/sha256", withIntermediateDirectories: true)
        let total = sizeMB << 20
        var random = SystemRandomNumberGenerator()
        func randomBytes(_ count: Int) -> Data {
            var data = Data(count: count)
            data.withUnsafeMutableBytes { buffer in
                let words = buffer.bindMemory(to: UInt64.self)
                for index in words.indices { words[index] = random.next() }
            }
            return data
        }
        func text(_ count: Int, seed: Int) -> Data {
            var data = Data(capacity: count + 128)
            var line = seed
            while data.count < count {
                data.append(contentsOf: "\(line) level=info component=bench message=\"request served\" status=200 bytes=\(line % 4096)\n".utf8)
                line += 1
            }
            return data.prefix(count)
        }
        let layers: [(name: String, write: (String) throws -> Void)] = [
            ("random", { dir in
                let size = total / 2, fileSize = 8 << 20
                for index in 0..<max(1, size / fileSize) { try randomBytes(fileSize).write(to: URL(fileURLWithPath: "\(dir)/blob-\(index).bin")) }
            }),
            ("text", { dir in
                let size = total * 3 / 10, fileSize = 2 << 20
                for index in 0..<max(1, size / fileSize) { try text(fileSize, seed: index * 100_000).write(to: URL(fileURLWithPath: "\(dir)/log-\(index).txt")) }
            }),
            ("small", { dir in
                var written = 0, index = 0
                while written < total / 5 {
                    let size = 4096 + (index * 7919) % 12288
                    let sub = "\(dir)/d\(index % 64)"
                    if index < 64 { try fm.createDirectory(atPath: sub, withIntermediateDirectories: true) }
                    let data = index % 2 == 0 ? randomBytes(size) : text(size, seed: index)
                    try data.write(to: URL(fileURLWithPath: "\(sub)/f\(index)"))
                    written += size
                    index += 1
                }
            }),
        ]
        var descriptors: [Descriptor] = []
        var diffIDs: [Digest] = []
        var uncompressed: Int64 = 0, compressed: Int64 = 0
        for layer in layers {
            let tree = "\(directory)/\(layer.name)"
            try fm.createDirectory(atPath: tree, withIntermediateDirectories: true)
            try layer.write(tree)
            let tar = "\(directory)/\(layer.name).tar"
            try BenchPull.run(["tar", "--numeric-owner", "-C", tree, "-cf", tar, "."])
            try? fm.removeItem(atPath: tree)
            diffIDs.append(try Digest.sha256(ofFile: tar))
            uncompressed += Int64((try fm.attributesOfItem(atPath: tar)[.size] as? Int) ?? 0)
            try BenchPull.run(["gzip", "-n", "-f", tar])
            let gz = tar + ".gz"
            let digest = try Digest.sha256(ofFile: gz)
            let size = Int64((try fm.attributesOfItem(atPath: gz)[.size] as? Int) ?? 0)
            compressed += size
            try fm.moveItem(atPath: gz, toPath: layout + "/blobs/sha256/" + digest.encoded)
            descriptors.append(Descriptor(mediaType: MediaType.ociLayerGzip, digest: digest, size: size))
        }
        let config = try blob(
            json(ImageConfigFile(config: ImageConfig(cmd: ["/bin/sh"]), diffIDs: diffIDs)), mediaType: MediaType.ociConfig, layout: layout)
        let manifest = try blob(json(ImageManifest(config: config, layers: descriptors)), mediaType: MediaType.ociManifest, layout: layout)
        var tagged = manifest
        tagged.annotations = ["org.opencontainers.image.ref.name": "bench"]
        try json(ImageIndex(manifests: [tagged])).write(to: URL(fileURLWithPath: layout + "/index.json"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: layout + "/oci-layout"))
        return BenchImage(layout: layout, uncompressed: uncompressed, compressed: compressed)
    }

    static func json(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    static func blob(_ data: Data, mediaType: String, layout: String) throws -> Descriptor {
        let digest = Digest.sha256(of: data)
        try data.write(to: URL(fileURLWithPath: layout + "/blobs/sha256/" + digest.encoded))
        return Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count))
    }
}

extension Duration {
    fileprivate var benchSeconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
