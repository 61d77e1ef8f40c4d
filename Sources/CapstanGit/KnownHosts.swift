import CapstanCore
import Crypto
import Foundation

/// An OpenSSH known_hosts file: which host keys an ssh:// remote may present.
///
/// Understood: comma-separated host patterns with `*`, `?` and `!` negation, `[host]:port` names for
/// ports other than 22, hashed names (`|1|salt|hash`), and `@revoked` lines. `@cert-authority`
/// lines are ignored (libgit2 hands over plain host keys, not certificates).
struct KnownHosts: Sendable {
    struct Entry: Sendable {
        enum Names: Sendable {
            case patterns([String])
            case hashed(salt: [UInt8], hash: [UInt8])
        }

        var line: Int
        var names: Names
        var revoked: Bool
        var keyType: String
        var key: [UInt8]
    }

    enum Verdict: Equatable, Sendable {
        /// A line for the host lists exactly this key.
        case trusted(line: Int)
        /// The key is marked `@revoked`.
        case revoked(line: Int)
        /// The host is listed, but with other keys (of these types).
        case mismatch(listedTypes: [String])
        /// No line names the host.
        case unknown
    }

    var entries: [Entry]

    init(text: String) {
        var entries: [Entry] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var fields = rawLine.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            var revoked = false
            if first.hasPrefix("@") {
                guard first == "@revoked" else { continue }  // @cert-authority
                revoked = true
                fields.removeFirst()
            }
            guard fields.count >= 3, let key = Data(base64Encoded: fields[2]) else { continue }
            let names: Entry.Names
            if fields[0].hasPrefix("|1|") {
                let parts = fields[0].split(separator: "|", omittingEmptySubsequences: true)
                guard parts.count == 3, let salt = Data(base64Encoded: String(parts[1])),
                    let hash = Data(base64Encoded: String(parts[2]))
                else { continue }
                names = .hashed(salt: [UInt8](salt), hash: [UInt8](hash))
            } else {
                names = .patterns(fields[0].split(separator: ",").map { $0.lowercased() })
            }
            entries.append(Entry(line: index + 1, names: names, revoked: revoked, keyType: fields[1], key: [UInt8](key)))
        }
        self.entries = entries
    }

    static func load(path: String) throws -> KnownHosts {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CapstanError(.failedPrecondition, "cannot read the known_hosts file \(path)")
        }
        return KnownHosts(text: String(decoding: data, as: UTF8.self))
    }

    /// The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise.
    static func name(host: String, port: Int) -> String {
        port == 22 ? host.lowercased() : "[\(host.lowercased())]:\(port)"
    }

    /// Whether `key` (the SSH wire-format public key blob) may be presented by `host` on `port`.
    func verify(host: String, port: Int, key: [UInt8]) -> Verdict {
        let name = Self.name(host: host, port: port)
        let matching = entries.filter { Self.matches($0.names, name) }
        if let revoked = matching.first(where: { $0.revoked && $0.key == key }) { return .revoked(line: revoked.line) }
        if let trusted = matching.first(where: { !$0.revoked && $0.key == key }) { return .trusted(line: trusted.line) }
        let listed = matching.filter { !$0.revoked }.map(\.keyType)
        return listed.isEmpty ? .unknown : .mismatch(listedTypes: Array(Set(listed)).sorted())
    }

    /// OpenSSH's hashed host name: HMAC-SHA1 of the name keyed with the entry's salt (swift-crypto).
    static func hashedName(salt: [UInt8], name: String) -> [UInt8] {
        Array(HMAC<Insecure.SHA1>.authenticationCode(for: Array(name.utf8), using: SymmetricKey(data: salt)))
    }

    static func matches(_ names: Entry.Names, _ name: String) -> Bool {
        switch names {
        case .hashed(let salt, let hash):
            return hashedName(salt: salt, name: name) == hash
        case .patterns(let patterns):
            var matched = false
            for pattern in patterns {
                if pattern.hasPrefix("!") {
                    if wildcard(pattern.dropFirst(), name[...]) { return false }
                } else if wildcard(pattern[...], name[...]) {
                    matched = true
                }
            }
            return matched
        }
    }

    /// `*` matches any run of characters and `?` any one character.
    static func wildcard(_ pattern: Substring, _ text: Substring) -> Bool {
        guard let head = pattern.first else { return text.isEmpty }
        switch head {
        case "*":
            let rest = pattern.dropFirst()
            var suffix = text
            while true {
                if wildcard(rest, suffix) { return true }
                guard !suffix.isEmpty else { return false }
                suffix = suffix.dropFirst()
            }
        case "?":
            return !text.isEmpty && wildcard(pattern.dropFirst(), text.dropFirst())
        default:
            return text.first == head && wildcard(pattern.dropFirst(), text.dropFirst())
        }
    }
}
