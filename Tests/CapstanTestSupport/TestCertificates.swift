import Foundation

/// A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, made with the openssl CLI.
public struct TestCertificates: Sendable {
    public let ca: String
    public let cert: String
    public let key: String
    public let clientCert: String
    public let clientKey: String
    /// A certificate for 127.0.0.1 signed by another CA (must be refused).
    public let strangerCert: String
    public let strangerKey: String

    public init(in directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func path(_ name: String) -> String { directory + "/" + name }
        ca = path("ca.pem")
        cert = path("server.pem")
        key = path("server.key")
        clientCert = path("client.pem")
        clientKey = path("client.key")
        strangerCert = path("stranger.pem")
        strangerKey = path("stranger.key")
        try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=capstan-test-ca", "-keyout", path("ca.key"), "-out", ca])
        try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=stranger-ca", "-keyout", path("stranger-ca.key"), "-out", path("stranger-ca.pem")])
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n".write(
            toFile: path("ext.cnf"), atomically: true, encoding: .utf8)
        for (name, signer) in [("server", "ca"), ("client", "ca"), ("stranger", "stranger-ca")] {
            try Self.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=\(name)",
                "-keyout", path("\(name).key"), "-out", path("\(name).csr")])
            try Self.openssl(["x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(signer).pem"), "-CAkey", path("\(signer).key"),
                "-CAcreateserial", "-days", "2", "-extfile", path("ext.cnf"), "-out", path("\(name).pem")])
        }
    }

    static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("openssl \(arguments.prefix(2).joined(separator: " ")) failed") }
    }
}
