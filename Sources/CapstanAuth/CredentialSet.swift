import CapstanCore
import Crypto
import Foundation

/// Principals and their secrets, as Mesos' `--credentials` / `--credential` files hold them.
///
/// Accepted formats: JSON `{"credentials": [{"principal": "p", "secret": "s"}, …]}`, a single JSON object
/// `{"principal": "p", "secret": "s"}`, or text with one `principal secret` pair per line (`#` starts a comment).
public struct CredentialSet: Sendable, Equatable {
    /// One principal and its secret.
    public struct Credential: Sendable, Equatable, Codable {
        public var principal: String
        public var secret: String

        public init(principal: String, secret: String) {
            self.principal = principal
            self.secret = secret
        }

        /// A credential with a fresh 256-bit random secret (for master and agent in one process).
        public static func random(principal: String) -> Credential {
            Credential(principal: principal, secret: SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() })
        }
    }

    public private(set) var credentials: [Credential]
    private var byPrincipal: [String: String]

    public init(_ credentials: [Credential]) throws(CapstanError) {
        var map: [String: String] = [:]
        for (index, credential) in credentials.enumerated() {
            if let problem = Self.principalProblem(credential.principal) {
                throw CapstanError(.invalidArgument, "credentials[\(index)].principal \(problem)")
            }
            if credential.secret.isEmpty {
                throw CapstanError(.invalidArgument, "credentials[\(index)].secret of principal '\(credential.principal)' is empty")
            }
            if map[credential.principal] != nil {
                throw CapstanError(.invalidArgument, "credentials[\(index)]: principal '\(credential.principal)' appears twice")
            }
            map[credential.principal] = credential.secret
        }
        self.credentials = credentials
        self.byPrincipal = map
    }

    /// The secret of `principal`, or nil.
    public func secret(of principal: String) -> String? { byPrincipal[principal] }

    public var isEmpty: Bool { credentials.isEmpty }

    /// Principals go into headers and logs: the identifier rule, without `,`.
    static func principalProblem(_ principal: String) -> String? {
        if let problem = IdentifierRule.problem(with: principal) { return problem }
        if principal.contains(",") { return "contains ','" }
        return nil
    }

    /// Reads a credentials file; errors name the file (and line for the text format).
    public static func load(path: String) throws(CapstanError) -> CredentialSet {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CapstanError(.notFound, "cannot read credentials file \(path)")
        }
        do {
            return try parse(String(decoding: data, as: UTF8.self), source: path)
        } catch {
            throw CapstanError(.invalidArgument, "credentials file \(path): \(error.message)")
        }
    }

    /// Parses the text of a credentials file.
    public static func parse(_ text: String, source: String) throws(CapstanError) -> CredentialSet {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("{") {
            struct Many: Decodable { var credentials: [Credential] }
            let data = Data(trimmed.utf8)
            if let many = try? JSONDecoder().decode(Many.self, from: data) { return try CredentialSet(many.credentials) }
            if let one = try? JSONDecoder().decode(Credential.self, from: data) { return try CredentialSet([one]) }
            throw CapstanError(
                .invalidArgument,
                #"expected {"credentials": [{"principal": …, "secret": …}]} or {"principal": …, "secret": …}"#)
        }
        var credentials: [Credential] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count == 2 else {
                throw CapstanError(.invalidArgument, "line \(number + 1): expected 'principal secret', got \(fields.count) fields")
            }
            credentials.append(Credential(principal: String(fields[0]), secret: String(fields[1])))
        }
        if credentials.isEmpty { throw CapstanError(.invalidArgument, "no credentials in \(source)") }
        return try CredentialSet(credentials)
    }

    /// One credential (an agent's `--credential` file must hold exactly one).
    public static func loadSingle(path: String) throws(CapstanError) -> Credential {
        let set = try load(path: path)
        guard set.credentials.count == 1, let only = set.credentials.first else {
            throw CapstanError(.invalidArgument, "credential file \(path) must hold exactly one principal, not \(set.credentials.count)")
        }
        return only
    }
}

/// Compares two byte strings in time that depends only on their lengths.
func constantTimeEquals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
}
