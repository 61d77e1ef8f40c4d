import CapstanCore
import CapstanTestSupport
import Foundation

/// Debian's `docker-registry` on a free 127.0.0.1 port with a config file in a scratch directory, anonymous or with
/// htpasswd basic auth. Stopped by PID.
final class LocalRegistry: @unchecked Sendable {
    let port: Int
    let directory: String
    let process: Process
    let credentials: (user: String, password: String)?

    var host: String { "127.0.0.1:\(port)" }
    var storage: String { directory + "/storage" }

    private init(port: Int, directory: String, process: Process, credentials: (String, String)?) {
        self.port = port
        self.directory = directory
        self.process = process
        self.credentials = credentials
    }

    /// Starts a registry, runs `body`, stops it by PID whatever happens.
    static func with<T>(in scratch: String, basicAuth: Bool = false, _ body: (LocalRegistry) async throws -> T) async throws -> T {
        let registry = try await start(in: scratch, basicAuth: basicAuth)
        defer { registry.stop() }
        return try await body(registry)
    }

    static func start(in scratch: String, basicAuth: Bool) async throws -> LocalRegistry {
        let directory = scratch + "/registry-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: directory + "/storage", withIntermediateDirectories: true)
        let port = FreePort.next()
        var credentials: (String, String)?
        var auth = ""
        if basicAuth {
            credentials = ("capstan", "s3cret-pass")
            try ImageTestSupport.run(["htpasswd", "-Bbc", directory + "/htpasswd", "capstan", "s3cret-pass"])
            auth = """
                auth:
                  htpasswd:
                    realm: capstan-test
                    path: \(directory)/htpasswd

                """
        }
        let config = """
            version: 0.1
            log:
              level: warn
            storage:
              filesystem:
                rootdirectory: \(directory)/storage
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:\(port)
            \(auth)
            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: directory + "/config.yml"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ImageTestSupport.which("docker-registry")!)
        process.arguments = ["serve", directory + "/config.yml"]
        let log = directory + "/registry.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let registry = LocalRegistry(port: port, directory: directory, process: process, credentials: credentials)
        // Wait until it answers /v2/.
        for _ in 0..<100 {
            let (status, _) = try ImageTestSupport.run(["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/\(port)"], allowFailure: true)
            if status == 0 { return registry }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        registry.stop()
        throw CapstanError(.unavailable, "docker-registry did not start on port \(port): \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    /// Pushes the OCI layout `layout:tag` to `repository:tag` here with skopeo.
    func push(layout: String, tag: String, to repository: String) throws {
        var arguments = ["skopeo", "--insecure-policy", "copy", "--dest-tls-verify=false"]
        if let credentials { arguments += ["--dest-creds", "\(credentials.user):\(credentials.password)"] }
        arguments += ["oci:\(layout):\(tag)", "docker://\(host)/\(repository)"]
        try ImageTestSupport.run(arguments)
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }
}
