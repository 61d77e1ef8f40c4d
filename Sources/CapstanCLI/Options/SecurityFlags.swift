import ArgumentParser
import CapstanAuth
import CapstanCore
import Foundation

/// Framework and operator authentication, and the escape hatch for an open server; shared by `master`, `agent`
/// and `up` (each adds what only it has: agent credentials, an agent's own credential).
struct HTTPAuthFlags: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Principals and secrets of frameworks and operators (Mesos format: {\"credentials\":[{\"principal\":…,\"secret\":…}]}, or 'principal secret' lines).",
        valueName: "file"))
    var credentials: String?

    @Option(help: ArgumentHelp("Key of HS256 JSON Web Tokens accepted as bearer credentials ('sub' is the principal; see `capstan token`).", valueName: "file"))
    var jwtSecretFile: String?

    @Flag(name: .customLong("authenticate-http"), help: "Require credentials on the operator API, /state, /metrics and sandbox files (not /health, /version).")
    var authenticateHTTP = false

    @Flag(help: "Allow what would otherwise be refused: unauthenticated agents, and a non-loopback listen address without authentication. Never on a network you do not trust.")
    var insecure = false

    /// The authenticator for `--credentials`/`--jwt-secret-file`, or nil when neither is given.
    func authenticator() throws -> HTTPAuthenticator? {
        if credentials == nil && jwtSecretFile == nil {
            if authenticateHTTP { throw ValidationError("--authenticate-http needs --credentials FILE or --jwt-secret-file FILE") }
            return nil
        }
        let set: CredentialSet
        do {
            set = try credentials.map { try CredentialSet.load(path: $0) } ?? CredentialSet([])
        } catch { throw ValidationError("--credentials: \(error)") }
        return HTTPAuthenticator(credentials: set, jwtSecret: try jwtSecretFile.map { try Self.readSecret($0, flag: "--jwt-secret-file") })
    }

    static func readSecret(_ path: String, flag: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("\(flag): cannot read \(path)") }
        var bytes = Array(data)
        while let last = bytes.last, last == 10 || last == 13 || last == 32 { bytes.removeLast() }
        guard bytes.count >= 16 else { throw ValidationError("\(flag): the key in \(path) is shorter than 16 bytes") }
        return bytes
    }

    /// Refuses to serve on a non-loopback address when `open` (what is not protected) is non-empty, unless
    /// `--insecure`; the error names the flag, the address and what is missing.
    /// Then checks that the address can be bound (``ListenPort``), so a taken port is named with its component and flag.
    func checkListen(_ address: HostPort, flag: String, command: String, open: [String]) throws {
        try ListenPort.ensureFree(address, component: ListenPort.component(command: command, flag: flag), flag: flag)
        guard !address.isLoopback, !open.isEmpty, !insecure else { return }
        throw ValidationError(
            "capstan \(command): refusing to listen on \(address) (\(flag)), which other machines can reach, while \(open.joined(separator: " and ")); "
                + "use a loopback address, turn authentication on, or pass --insecure to accept the risk")
    }
}
