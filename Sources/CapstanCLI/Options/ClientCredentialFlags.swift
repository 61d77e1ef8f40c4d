import ArgumentParser
import CapstanAuth
import Foundation

/// How a `capstan` client proves who it is to a master with `--authenticate-frameworks` or `--authenticate-http`:
/// a principal and the file holding its secret (HTTP Basic), or a file holding a bearer token.
struct ClientCredentialFlags: ParsableArguments {
    @Option(help: "The principal to authenticate to the master as (HTTP Basic with --secret-file).")
    var principal: String?

    @Option(help: ArgumentHelp("A file holding the principal's secret.", valueName: "file"))
    var secretFile: String?

    @Option(help: ArgumentHelp("A file holding a bearer token (see `capstan token`), instead of --principal.", valueName: "file"))
    var tokenFile: String?

    func validate() throws {
        if (principal == nil) != (secretFile == nil) { throw ValidationError("--principal and --secret-file go together") }
        if principal != nil && tokenFile != nil { throw ValidationError("give --principal/--secret-file or --token-file, not both") }
    }

    /// The `Authorization` header value, or nil when no credential was given.
    func authorization() throws -> String? {
        if let principal, let secretFile {
            return HTTPAuthenticator.basic(principal: principal, secret: try Self.read(secretFile, flag: "--secret-file"))
        }
        if let tokenFile { return "Bearer " + (try Self.read(tokenFile, flag: "--token-file")) }
        return nil
    }

    static func read(_ path: String, flag: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("\(flag): cannot read \(path)") }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw ValidationError("\(flag): \(path) is empty") }
        return text
    }
}
