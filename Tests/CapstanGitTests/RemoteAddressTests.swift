@testable import CapstanGit
import Testing

@Suite("RemoteAddress")
struct RemoteAddressTests {
    @Test func parsesEveryRemoteForm() {
        let cases: [(String, RemoteAddress)] = [
            ("/srv/repo", RemoteAddress(transport: .local)),
            ("./repo", RemoteAddress(transport: .local)),
            ("file:///srv/repo", RemoteAddress(transport: .file)),
            ("git://127.0.0.1:9419/repo", RemoteAddress(transport: .git, host: "127.0.0.1", port: 9419)),
            ("https://x-access-token:t@git.example.com/o/r.git", RemoteAddress(transport: .https, user: "x-access-token", host: "git.example.com")),
            ("https://a%40b@[::1]:8443/r", RemoteAddress(transport: .https, user: "a@b", host: "::1", port: 8443)),
            ("ssh://git@127.0.0.1:2222/srv/r.git", RemoteAddress(transport: .ssh, user: "git", host: "127.0.0.1", port: 2222)),
            ("git@github.com:owner/repo.git", RemoteAddress(transport: .ssh, user: "git", host: "github.com")),
            ("github.com:owner/repo.git", RemoteAddress(transport: .ssh, host: "github.com")),
        ]
        for (url, expected) in cases {
            #expect(RemoteAddress(parsing: url) == expected, "\(url)")
        }
        #expect(RemoteAddress(parsing: "git@github.com:o/r").effectivePort == 22)
        #expect(RemoteAddress(parsing: "https://h/r").effectivePort == 443)
    }
}
