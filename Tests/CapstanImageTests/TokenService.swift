import CapstanCore
import CapstanTestSupport
import Foundation

/// A Docker-registry token service for the bearer-auth tests: a small Python `http.server` on a 127.0.0.1 port the kernel picks
/// that answers every GET with one JWT and records each request's path (with its `service` and `scope` query) and
/// `Authorization` header. The JWT is signed RS256 by a key made with openssl here; its certificate, sent in the
/// `x5c` header, is the registry's `rootcertbundle`. Stopped by PID.
final class TokenService: @unchecked Sendable {
    static let service = "capstan-test-registry"
    static let issuer = "capstan-test-issuer"

    let port: Int
    let directory: String
    let process: Process
    let credentials: (user: String, password: String)

    var realm: String { "http://127.0.0.1:\(port)/token" }
    var certificate: String { directory + "/token-cert.pem" }
    var auth: LocalRegistry.TokenAuth {
        LocalRegistry.TokenAuth(realm: realm, service: Self.service, issuer: Self.issuer, rootCertBundle: certificate)
    }

    private init(port: Int, directory: String, process: Process, credentials: (String, String)) {
        self.port = port
        self.directory = directory
        self.process = process
        self.credentials = credentials
    }

    /// The recorded requests, one `PATH<TAB>AUTHORIZATION` line each.
    var requests: [String] {
        ((try? String(contentsOfFile: directory + "/requests.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Starts the service, granting pull and push on `repository` to `credentials` (others get 401); runs `body`;
    /// stops it by PID whatever happens.
    static func with<T>(in scratch: String, repository: String, _ body: (TokenService) async throws -> T) async throws -> T {
        let service = try await start(in: scratch, repository: repository)
        defer { service.stop() }
        return try await body(service)
    }

    static func start(in scratch: String, repository: String) async throws -> TokenService {
        let directory = scratch + "/token-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let token = try signedToken(in: directory, repository: repository)
        try Data(#"{"token":"\#(token)","expires_in":3600}"#.utf8).write(to: URL(fileURLWithPath: directory + "/token.json"))
        let credentials = ("token-user", "token-pass")
        let expected = "Basic " + Data("\(credentials.0):\(credentials.1)".utf8).base64EncodedString()
        try Data(script.utf8).write(to: URL(fileURLWithPath: directory + "/token_service.py"))
        // The service listens on a port the kernel picks and writes it to port.txt once it serves.
        let portFile = directory + "/port.txt"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Prerequisites.which("python3")!)
        process.arguments = [directory + "/token_service.py", portFile, directory + "/token.json", directory + "/requests.log", expected]
        let log = directory + "/service.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        for _ in 0..<300 {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return TokenService(port: port, directory: directory, process: process, credentials: credentials)
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        throw CapstanError(.unavailable, "the token service did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    /// A JWT (RS256, certificate in `x5c`) granting pull and push on `repository` for an hour.
    static func signedToken(in directory: String, repository: String) throws -> String {
        let key = directory + "/token-key.pem", cert = directory + "/token-cert.pem"
        try ImageTestSupport.run([
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=capstan-token-signer",
        ])
        try ImageTestSupport.run(["openssl", "x509", "-in", cert, "-outform", "DER", "-out", directory + "/token-cert.der"])
        let der = try Data(contentsOf: URL(fileURLWithPath: directory + "/token-cert.der"))
        let now = Int(Date().timeIntervalSince1970)
        let header: [String: Any] = ["alg": "RS256", "typ": "JWT", "x5c": [der.base64EncodedString()]]
        let claims: [String: Any] = [
            "iss": issuer, "sub": "token-user", "aud": service, "iat": now - 60, "nbf": now - 60, "exp": now + 3600,
            "jti": UUID().uuidString, "access": [["type": "repository", "name": repository, "actions": ["pull", "push"]]],
        ]
        let input = base64URL(try JSONSerialization.data(withJSONObject: header)) + "." + base64URL(try JSONSerialization.data(withJSONObject: claims))
        try Data(input.utf8).write(to: URL(fileURLWithPath: directory + "/jwt-input"))
        try ImageTestSupport.run(["openssl", "dgst", "-sha256", "-sign", key, "-out", directory + "/jwt-signature", directory + "/jwt-input"])
        return input + "." + base64URL(try Data(contentsOf: URL(fileURLWithPath: directory + "/jwt-signature")))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// SIGTERM, then SIGKILL after 5 s.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Answers GET with the token when the Authorization header is the expected one, else 401; logs every request.
    static let script = """
        import http.server, signal, sys
        # The test process may have SIGTERM blocked; the service must still stop on it.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        import os
        port_file, token_file, log_file, expected = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
        token = open(token_file, "rb").read()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                authorization = self.headers.get("Authorization") or ""
                with open(log_file, "a") as log:
                    log.write(self.path + "\\t" + authorization + "\\n")
                if authorization != expected:
                    body = b'{"details":"bad credentials"}'
                    self.send_response(401)
                else:
                    body = token
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        with open(port_file + ".tmp", "w") as f:
            f.write("%d\\n" % server.server_address[1])
        os.rename(port_file + ".tmp", port_file)
        server.serve_forever()
        """
}
