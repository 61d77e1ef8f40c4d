import CapstanTestSupport
import Foundation

/// OpenSSH's sshd on 127.0.0.1 with its own config, host key and authorized_keys, serving the
/// fixture's repositories to the current user with a client key made for the test. Stopped by PID.
struct SSHGitServer {
    var port: Int
    /// `ssh://user@127.0.0.1:port/…/origin`.
    var url: String
    /// The client's private key (its `.pub` next to it), authorised by the server.
    var clientKey: String
    /// A known_hosts file listing the server's host key as `[127.0.0.1]:port`.
    var knownHosts: String
    /// The server's host public key line (`ssh-ed25519 AAAA…`).
    var hostPublicKey: String
    /// The directory of this server's files, for tests to add more.
    var directory: String

    static func with<T>(_ fixture: GitFixture, _ body: (SSHGitServer) async throws -> T) async throws -> T {
        let sshd = try Prerequisites.path(of: "sshd", alsoIn: GitTestSupport.gitCore)
        let dir = fixture.directory.path + "/ssh"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // sshd insists on its privilege-separation directory.
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        try await GitTestSupport.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "host_key"], in: dir)
        try await GitTestSupport.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "client_key"], in: dir)
        try FileManager.default.copyItem(atPath: dir + "/client_key.pub", toPath: dir + "/authorized_keys")
        // sshd refuses port 0: it gets a picked port, and another one when that collided with another process's.
        let (server, port, hostPublicKey) = try await PickedPort.retrying { port -> (ServerProcess, Int, String)? in
            let hostPublicKey = try writeConfig(port: port, in: dir)
            // sshd must be started by its absolute path; -D stays in the foreground, -e logs to the log file.
            let server = try ServerProcess([sshd, "-D", "-e", "-f", dir + "/sshd_config"], logPath: dir + "/sshd.log")
            return await server.listens(on: port) ? (server, port, hostPublicKey) : nil
        }
        defer { server.stop() }
        let user = String(cString: getpwuid(getuid()).pointee.pw_name)
        return try await body(
            SSHGitServer(
                port: port, url: "ssh://\(user)@127.0.0.1:\(port)\(fixture.path)", clientKey: dir + "/client_key",
                knownHosts: dir + "/known_hosts", hostPublicKey: hostPublicKey, directory: dir))
    }

    /// Writes sshd_config for `port` and the known_hosts naming the host key there; returns the host public key line.
    private static func writeConfig(port: Int, in dir: String) throws -> String {
        let config = """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(dir)/host_key
            AuthorizedKeysFile \(dir)/authorized_keys
            PidFile \(dir)/sshd.pid
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            PermitRootLogin prohibit-password

            """
        try config.write(toFile: dir + "/sshd_config", atomically: true, encoding: .utf8)
        let hostPublicKey = try String(contentsOfFile: dir + "/host_key.pub", encoding: .utf8)
            .split(separator: " ").prefix(2).joined(separator: " ")
        try "[127.0.0.1]:\(port) \(hostPublicKey)\n".write(toFile: dir + "/known_hosts", atomically: true, encoding: .utf8)
        return hostPublicKey
    }
}
