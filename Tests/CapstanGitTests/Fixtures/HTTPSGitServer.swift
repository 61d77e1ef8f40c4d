import CapstanTestSupport
import Foundation

/// A smart-HTTP git server over TLS on 127.0.0.1: a python3 (stdlib only) script that requires HTTP
/// basic auth with a token and runs `git http-backend` as CGI, with a certificate signed by a CA made
/// with openssl for the test. Stopped by PID.
struct HTTPSGitServer {
    /// The https:// URL of the fixture's origin repository (no user information).
    var url: String
    /// The PEM file of the CA that signed the server's certificate.
    var caFile: String
    /// The token the server accepts as the basic-auth password.
    var token: String

    static func with<T>(_ fixture: GitFixture, token: String, _ body: (HTTPSGitServer) async throws -> T) async throws -> T {
        let python = try Prerequisites.path(of: "python3", alsoIn: GitTestSupport.gitCore)
        let dir = fixture.directory.path + "/https"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try await makeCertificates(in: dir)
        try script.write(toFile: dir + "/server.py", atomically: true, encoding: .utf8)
        let portFile = dir + "/port"
        let server = try ServerProcess(
            [python, dir + "/server.py", fixture.directory.path, dir + "/server.pem", dir + "/server.key", token, portFile],
            logPath: dir + "/server.log")
        defer { server.stop() }
        try await server.waitUntilReady { FileManager.default.fileExists(atPath: portFile) }
        let port = try String(contentsOfFile: portFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return try await body(HTTPSGitServer(url: "https://127.0.0.1:\(port)/origin", caFile: dir + "/ca.pem", token: token))
    }

    /// A CA, and a server certificate for 127.0.0.1 signed by it. The name is also a DNS entry:
    /// libgit2's mbedTLS backend matches only DNS names of the subjectAltName.
    static func makeCertificates(in dir: String) async throws {
        try await GitTestSupport.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
             "-days", "2", "-subj", "/CN=Capstan Test CA"], in: dir)
        try await GitTestSupport.run(
            ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1"], in: dir)
        try "subjectAltName=IP:127.0.0.1,DNS:127.0.0.1,DNS:localhost\n".write(toFile: dir + "/ext.cnf", atomically: true, encoding: .utf8)
        try await GitTestSupport.run(
            ["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"], in: dir)
    }

    /// argv: repository root, certificate, key, token, port file (written once listening).
    static let script = #"""
        import base64, hmac, os, ssl, subprocess, sys
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        root, cert, key, token, port_file = sys.argv[1:6]

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                sys.stderr.write("%s %s\n" % (self.command, self.path))

            def authorised(self):
                header = self.headers.get("Authorization", "")
                if not header.startswith("Basic "):
                    return False
                try:
                    _, _, password = base64.b64decode(header[6:]).decode().partition(":")
                except Exception:
                    return False
                return hmac.compare_digest(password.encode(), token.encode())

            def body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().strip().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length", "0")))

            def serve(self):
                body = self.body()
                if not self.authorised():
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="capstan-test"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                path, _, query = self.path.partition("?")
                env = dict(os.environ, GIT_PROJECT_ROOT=root, GIT_HTTP_EXPORT_ALL="1", PATH_INFO=path,
                           QUERY_STRING=query, REQUEST_METHOD=self.command, REMOTE_USER="capstan",
                           REMOTE_ADDR="127.0.0.1", CONTENT_TYPE=self.headers.get("Content-Type", ""),
                           CONTENT_LENGTH=str(len(body)), GIT_PROTOCOL=self.headers.get("Git-Protocol", ""),
                           HTTP_CONTENT_ENCODING=self.headers.get("Content-Encoding", ""))
                result = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
                head, _, payload = result.stdout.partition(b"\r\n\r\n")
                status, headers = 200, []
                for line in head.decode().split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.lower() == "status":
                        status = int(value.strip().split(" ")[0])
                    elif name:
                        headers.append((name, value.strip()))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = serve
            do_POST = serve

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        with open(port_file + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        os.rename(port_file + ".tmp", port_file)
        server.serve_forever()
        """#
}
