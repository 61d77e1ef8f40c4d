import CapstanAuth
import Foundation

/// Two framework principals, `alice` and `bob`, in a `--credentials` file of their own: for the tests of who may
/// subscribe as, resume or take over which framework.
public struct TwoPrincipals: Sendable {
    public let directory: String
    /// `Authorization` headers (HTTP Basic) of each.
    public let alice = HTTPAuthenticator.basic(principal: "alice", secret: "a-secret")
    public let bob = HTTPAuthenticator.basic(principal: "bob", secret: "b-secret")

    public var credentialsFile: String { directory + "/credentials" }
    /// The master's flags that make frameworks authenticate against this file.
    public var masterFlags: [String] { ["--authenticate-frameworks", "--credentials", credentialsFile] }

    /// Runs `body` with the credentials file written, and removes it afterwards.
    public static func with<T>(_ body: (TwoPrincipals) async throws -> T) async throws -> T {
        let directory = NSTemporaryDirectory() + "capstan-principals-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let principals = TwoPrincipals(directory: directory)
        try "alice a-secret\nbob b-secret\n".write(toFile: principals.credentialsFile, atomically: true, encoding: .utf8)
        return try await body(principals)
    }
}
