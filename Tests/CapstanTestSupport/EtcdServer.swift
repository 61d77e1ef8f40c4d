import CapstanAPIClient
import Foundation

/// A real etcd (Debian's `etcd-server`) on 127.0.0.1 with a temporary data dir, free client and peer ports, started
/// for one test and stopped by PID.
public final class EtcdServer: @unchecked Sendable {
    /// `http://127.0.0.1:PORT`.
    public let endpoint: String
    public let dataDirectory: String
    public let process: Process
    public let logPath: String

    /// What the tests that need etcd require.
    public static var prerequisite: Prerequisite { .binary("etcd") }

    private init(endpoint: String, dataDirectory: String, process: Process, logPath: String) {
        self.endpoint = endpoint
        self.dataDirectory = dataDirectory
        self.process = process
        self.logPath = logPath
    }

    /// Starts etcd and waits until it answers `/health`; retries with other ports when one was taken meanwhile.
    public static func start() async throws -> EtcdServer {
        let binary = try Prerequisites.path(of: "etcd")
        var lastLog = ""
        for _ in 0..<3 {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-etcd-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let (client, peer) = (FreePort.next(), FreePort.next())
            let endpoint = "http://127.0.0.1:\(client)"
            let peerURL = "http://127.0.0.1:\(peer)"
            let logPath = directory + ".log"
            FileManager.default.createFile(atPath: logPath, contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = [
                "--name", "capstan-test", "--data-dir", directory + "/data", "--listen-client-urls", endpoint,
                "--advertise-client-urls", endpoint, "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
                "--initial-cluster", "capstan-test=\(peerURL)",
            ]
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let server = EtcdServer(endpoint: endpoint, dataDirectory: directory, process: process, logPath: logPath)
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline, process.isRunning {
                if let reply = try? await JSONPoster().get(endpoint + "/health"), reply.isSuccess { return server }
                try await Task.sleep(for: .milliseconds(100))
            }
            lastLog = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            server.stop()
        }
        throw TestFailure("etcd did not become healthy on 127.0.0.1:\n\(lastLog.suffix(3000))")
    }

    /// The keys under `prefix` and their values, read straight from the JSON gateway (independent of the client
    /// under test).
    public func keys(under prefix: String) async throws -> [String: String] {
        var end = Array(prefix.utf8)
        end[end.count - 1] += 1
        let body = #"{"key":"\#(Data(prefix.utf8).base64EncodedString())","range_end":"\#(Data(end).base64EncodedString())"}"#
        let reply = try await JSONPoster().postRaw(body, to: endpoint + "/v3/kv/range")
        struct Range: Decodable {
            struct KV: Decodable { var key: String; var value: String? }
            var kvs: [KV]?
        }
        var keys: [String: String] = [:]
        for kv in try JSONDecoder().decode(Range.self, from: reply.body).kvs ?? [] {
            let key = String(decoding: Data(base64Encoded: kv.key) ?? Data(), as: UTF8.self)
            keys[key] = String(decoding: Data(base64Encoded: kv.value ?? "") ?? Data(), as: UTF8.self)
        }
        return keys
    }

    /// Stops etcd (SIGTERM, then SIGKILL) by its PID and removes its data.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: dataDirectory)
        try? FileManager.default.removeItem(atPath: logPath)
    }
}
