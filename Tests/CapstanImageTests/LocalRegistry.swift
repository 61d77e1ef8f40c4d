import CapstanCore
import CapstanTestSupport
import Foundation

/// Debian's `docker-registry` on a 127.0.0.1 port the kernel picks with a config file in a scratch directory: anonymous, with
/// htpasswd basic auth, or with bearer tokens from a token service; plain HTTP or TLS. Stopped by PID.
final class LocalRegistry: @unchecked Sendable {
    let port: Int
    let directory: String
    let process: Process
    let credentials: (user: String, password: String)?

    var host: String { "127.0.0.1:\(port)" }
    var storage: String { directory + "/storage" }

    /// A token service the registry trusts (`auth: token`): it validates JWTs whose `x5c` certificate chains to
    /// `rootCertBundle`, issued by `issuer` for `service`.
    struct TokenAuth {
        var realm: String
        var service: String
        var issuer: String
        var rootCertBundle: String
    }

    private init(port: Int, directory: String, process: Process, credentials: (String, String)?) {
        self.port = port
        self.directory = directory
        self.process = process
        self.credentials = credentials
    }

    /// Starts a registry, runs `body`, stops it by PID whatever happens. `tls` is a PEM certificate and key to serve
    /// HTTPS with.
    static func with<T>(
        in scratch: String, basicAuth: Bool = false, token: TokenAuth? = nil, tls: (certificate: String, key: String)? = nil,
        _ body: (LocalRegistry) async throws -> T
    ) async throws -> T {
        let registry = try await start(in: scratch, basicAuth: basicAuth, token: token, tls: tls)
        defer { registry.stop() }
        return try await body(registry)
    }

    static func start(in scratch: String, basicAuth: Bool, token: TokenAuth? = nil, tls: (certificate: String, key: String)? = nil) async throws -> LocalRegistry {
        let directory = scratch + "/registry-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: directory + "/storage", withIntermediateDirectories: true)
        var credentials: (String, String)?
        var auth = ""
        // Port 0: the kernel picks the port; the registry's listening socket tells which (ListeningPorts).
        var http = "  addr: 127.0.0.1:0\n"
        if let tls { http += "  tls:\n    certificate: \(tls.certificate)\n    key: \(tls.key)\n" }
        if let token {
            auth = """
                auth:
                  token:
                    realm: \(token.realm)
                    service: \(token.service)
                    issuer: \(token.issuer)
                    rootcertbundle: \(token.rootCertBundle)

                """
        }
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
            \(http)\(auth)
            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: directory + "/config.yml"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Prerequisites.which("docker-registry")!)
        process.arguments = ["serve", directory + "/config.yml"]
        let log = directory + "/registry.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        // Wait until it listens.
        for _ in 0..<300 {
            if let port = ListeningPorts.of(pid: process.processIdentifier).first {
                return LocalRegistry(port: port, directory: directory, process: process, credentials: credentials)
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        throw CapstanError(.unavailable, "docker-registry did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    /// Pushes the OCI layout `layout:tag` to `repository:tag` here with skopeo (`all`: every image of an index).
    func push(layout: String, tag: String, to repository: String, all: Bool = false, credentials override: (user: String, password: String)? = nil) throws {
        var arguments = ["skopeo", "--insecure-policy", "copy", "--dest-tls-verify=false"]
        if all { arguments.append("--all") }
        if let credentials = override ?? credentials { arguments += ["--dest-creds", "\(credentials.user):\(credentials.password)"] }
        arguments += ["oci:\(layout):\(tag)", "docker://\(host)/\(repository)"]
        try ImageTestSupport.run(arguments)
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }
}
