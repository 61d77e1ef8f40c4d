@testable import CapstanGit
import Foundation
import Testing

@Suite("KnownHosts")
struct KnownHostsTests {
    static let keyA = [UInt8]("\u{0}\u{0}\u{0}\u{b}ssh-ed25519-A".utf8)
    static let keyB = [UInt8]("\u{0}\u{0}\u{0}\u{b}ssh-ed25519-B".utf8)
    static func line(_ names: String, _ key: [UInt8], type: String = "ssh-ed25519") -> String {
        "\(names) \(type) \(Data(key).base64EncodedString()) comment"
    }

    @Test func matchesPlainNamesPortsAndWildcards() {
        let hosts = KnownHosts(text: [
            "# a comment", "",
            Self.line("git.example.com,10.0.0.1", Self.keyA),
            Self.line("[git.example.com]:2222", Self.keyB),
            Self.line("*.internal,!secret.internal", Self.keyA),
            Self.line("build?.ci", Self.keyB),
        ].joined(separator: "\n"))
        #expect(hosts.verify(host: "GIT.example.com", port: 22, key: Self.keyA) == .trusted(line: 3))
        #expect(hosts.verify(host: "10.0.0.1", port: 22, key: Self.keyA) == .trusted(line: 3))
        #expect(hosts.verify(host: "git.example.com", port: 2222, key: Self.keyB) == .trusted(line: 4))
        #expect(hosts.verify(host: "git.example.com", port: 2222, key: Self.keyA) == .mismatch(listedTypes: ["ssh-ed25519"]))
        #expect(hosts.verify(host: "git.example.com", port: 22, key: Self.keyB) == .mismatch(listedTypes: ["ssh-ed25519"]))
        #expect(hosts.verify(host: "db.internal", port: 22, key: Self.keyA) == .trusted(line: 5))
        #expect(hosts.verify(host: "secret.internal", port: 22, key: Self.keyA) == .unknown)
        #expect(hosts.verify(host: "build1.ci", port: 22, key: Self.keyB) == .trusted(line: 6))
        #expect(hosts.verify(host: "build12.ci", port: 22, key: Self.keyB) == .unknown)
        #expect(hosts.verify(host: "other.example.com", port: 22, key: Self.keyA) == .unknown)
    }

    @Test func revokedKeysWinOverTrustedOnes() {
        let hosts = KnownHosts(text: [
            Self.line("git.example.com", Self.keyA),
            "@revoked " + Self.line("*", Self.keyA),
            "@cert-authority " + Self.line("*", Self.keyB),
        ].joined(separator: "\n"))
        #expect(hosts.verify(host: "git.example.com", port: 22, key: Self.keyA) == .revoked(line: 2))
        // @cert-authority lines are not host keys.
        #expect(hosts.verify(host: "git.example.com", port: 22, key: Self.keyB) == .mismatch(listedTypes: ["ssh-ed25519"]))
    }

    @Test func matchesHashedNames() {
        let salt = [UInt8](repeating: 7, count: 20)
        let hash = KnownHosts.hashedName(salt: salt, name: "[127.0.0.1]:2222")
        let name = "|1|\(Data(salt).base64EncodedString())|\(Data(hash).base64EncodedString())"
        let hosts = KnownHosts(text: Self.line(name, Self.keyA))
        #expect(hosts.verify(host: "127.0.0.1", port: 2222, key: Self.keyA) == .trusted(line: 1))
        #expect(hosts.verify(host: "127.0.0.1", port: 22, key: Self.keyA) == .unknown)
    }

    @Test func hashedNamesMatchTheHMACSHA1ReferenceVectors() {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        // RFC 2202 test cases 1 and 6 (a key longer than the block).
        #expect(hex(KnownHosts.hashedName(salt: [UInt8](repeating: 0x0b, count: 20), name: "Hi There"))
            == "b617318655057264e28bc0b6fb378c8ef146be00")
        #expect(hex(KnownHosts.hashedName(salt: [UInt8](repeating: 0xaa, count: 80), name: "Test Using Larger Than Block-Size Key - Hash Key First"))
            == "aa4ae5e15272d00e95705637ce8a3b55ed402112")
    }
}
