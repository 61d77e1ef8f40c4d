import ArgumentParser
import CapstanAuth
import CapstanCore
import Foundation

/// `capstan token`: mints a bearer token that a master or agent started with the same `--jwt-secret-file` accepts.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print a bearer token (HS256 JSON Web Token) for a principal, signed with a --jwt-secret-file key.")

    @Option(help: "The principal the token authenticates (its 'sub' claim).")
    var principal: String

    @Option(help: ArgumentHelp("The key file the master and agents were given as --jwt-secret-file.", valueName: "file"))
    var jwtSecretFile: String

    @Option(help: "How long the token is valid, e.g. 1h, 30mins.")
    var lifetime: String = "1h"

    func run() throws {
        let key = try HTTPAuthFlags.readSecret(jwtSecretFile, flag: "--jwt-secret-file")
        let duration = try FlagParsing.duration(lifetime, flag: "--lifetime")
        do { _ = try CredentialSet([.init(principal: principal, secret: "x")]) } catch {
            throw ValidationError("--principal: \(error.message)")
        }
        print(BearerToken.mint(principal: principal, secret: key, lifetime: duration.seconds))
    }
}
