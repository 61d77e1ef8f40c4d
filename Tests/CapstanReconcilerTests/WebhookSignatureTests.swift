import CapstanCore
import CapstanGit
import CapstanReconciler
import Foundation
import Testing

@Suite("WebhookSignature")
struct WebhookSignatureTests {
    // The example in GitHub's "Validating webhook deliveries" documentation.
    static let secret = "It's a Secret to Everybody"
    static let body = Array("Hello, World!".utf8)
    static let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

    @Test func matchesGitHubsDocumentedExample() throws {
        let signature = try WebhookSignature(secret: Self.secret)
        #expect(signature.header(for: Self.body) == Self.expected)
        #expect(signature.isValid(body: Self.body, header: Self.expected))
        #expect(signature.isValid(body: Self.body, header: Self.expected.uppercased().replacingOccurrences(of: "SHA256=", with: "sha256=")))
        #expect(signature.check(Self.body, Self.expected))
    }

    @Test func refusesTamperedBodiesOtherSecretsAndMalformedHeaders() throws {
        let signature = try WebhookSignature(secret: Self.secret)
        #expect(!signature.isValid(body: Array("Hello, World?".utf8), header: Self.expected))
        #expect(!(try WebhookSignature(secret: "another secret")).isValid(body: Self.body, header: Self.expected))
        let hex = String(Self.expected.dropFirst("sha256=".count))
        for header in [nil, "", hex, "sha1=" + hex, "sha256=", "sha256=" + hex.dropLast(), "sha256=" + hex + "00",
                       "sha256=" + hex.dropLast() + "g", "sha256=" + String(repeating: "0", count: 64)] as [String?] {
            #expect(!signature.isValid(body: Self.body, header: header), "\(header ?? "nil")")
        }
        #expect(!signature.check(Self.body, nil))
    }

    @Test func readsTheSecretFromAFileAndRefusesAnEmptyOne() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-secret-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try (Self.secret + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try WebhookSignature(secretFile: path).isValid(body: Self.body, header: Self.expected))
        try "\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: CapstanError.self) { try WebhookSignature(secretFile: path) }
        #expect(throws: CapstanError.self) { try WebhookSignature(secret: "") }
        #expect(throws: CapstanError.self) { try WebhookSignature(secretFile: path + ".missing") }
    }

    @Test func parsesTheRefAndCommitOfAPushPayload() {
        let after = "0123456789abcdef0123456789abcdef01234567"
        let push = WebhookPush.parse(Array(#"{"ref":"refs/heads/main","before":"\#(String(repeating: "0", count: 40))","after":"\#(after)","repository":{"full_name":"o/r"}}"#.utf8))
        #expect(push == WebhookPush(ref: "refs/heads/main", after: CommitID(hex: after)))
        #expect(push?.branch == "main")
        #expect(push?.concerns(revision: "main") == true)
        #expect(push?.concerns(revision: "refs/heads/main") == true)
        #expect(push?.concerns(revision: "develop") == false)

        let deleted = WebhookPush.parse(Array(#"{"ref":"refs/tags/v1","after":"\#(String(repeating: "0", count: 40))"}"#.utf8))
        #expect(deleted?.deleted == true)
        #expect(deleted?.branch == nil)
        #expect(deleted?.concerns(revision: "v1") == true)

        #expect(WebhookPush.parse(Array(#"{"zen":"Keep it logically awesome.","hook_id":1}"#.utf8)) == nil)
        #expect(WebhookPush.parse(Array("not json".utf8)) == nil)
    }
}
