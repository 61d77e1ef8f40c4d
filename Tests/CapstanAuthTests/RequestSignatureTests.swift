import CapstanAuth
import CapstanCore
import Foundation
import Testing

@Suite("RequestSignature")
struct RequestSignatureTests {
    let credentials = try! CredentialSet([.init(principal: "agent-1", secret: "s3cret"), .init(principal: "agent-2", secret: "other")])
    let body = Data(#"{"task":{"task_id":{"value":"t"}}}"#.utf8)

    @Test func acceptsASignedRequestAndNamesItsPrincipal() throws {
        let header = RequestSignature.authorization(
            principal: "agent-1", secret: "s3cret", method: "POST", path: "/agent/internal/run-task", body: body, now: 1000)
        let principal = try RequestSignature.verify(
            authorization: header, method: "POST", path: "/agent/internal/run-task", body: body, credentials: credentials, now: 1010)
        #expect(principal == "agent-1")
        #expect(!header.contains("s3cret"))
    }

    @Test func refusesMissingWrongTamperedStaleAndUnknown() {
        let good = RequestSignature.authorization(principal: "agent-1", secret: "s3cret", method: "POST", path: "/p", body: body, now: 1000)
        func refused(_ header: String?, path: String = "/p", body: Data? = nil, now: Double = 1000) -> Bool {
            do {
                _ = try RequestSignature.verify(
                    authorization: header, method: "POST", path: path, body: body ?? self.body, credentials: credentials, now: now)
                return false
            } catch { return error.code == .unauthenticated }
        }
        #expect(refused(nil))
        #expect(refused("Basic YWdlbnQtMTpzM2NyZXQ="))
        #expect(refused(good, path: "/other"))
        #expect(refused(good, body: Data("{}".utf8)))
        #expect(refused(good, now: 1000 + 301))
        #expect(refused(RequestSignature.authorization(principal: "agent-1", secret: "wrong", method: "POST", path: "/p", body: body, now: 1000)))
        #expect(refused(RequestSignature.authorization(principal: "agent-2", secret: "s3cret", method: "POST", path: "/p", body: body, now: 1000)))
        #expect(refused(RequestSignature.authorization(principal: "nobody", secret: "s3cret", method: "POST", path: "/p", body: body, now: 1000)))
        #expect(refused("Capstan-HMAC agent-1 1000 zz"))
    }
}

@Suite("CredentialSet")
struct CredentialSetTests {
    @Test func readsMesosJSONSingleJSONAndTextFormats() throws {
        let many = try CredentialSet.parse(#"{"credentials":[{"principal":"a","secret":"x"},{"principal":"b","secret":"y"}]}"#, source: "f")
        #expect(many.secret(of: "b") == "y")
        let one = try CredentialSet.parse(#"{"principal":"a","secret":"x"}"#, source: "f")
        #expect(one.credentials.count == 1)
        let text = try CredentialSet.parse("# agents\nagent-1 one\n\nagent-2\tsecond # trailing\n", source: "f")
        #expect(text.secret(of: "agent-2") == "second")
    }

    @Test func refusesBadFilesNamingTheLine() {
        #expect(throws: CapstanError.self) { try CredentialSet.parse("a b c\n", source: "f") }
        do {
            _ = try CredentialSet.parse("ok one\nbad\n", source: "f")
            Issue.record("a line with one field was accepted")
        } catch { #expect(error.message.contains("line 2")) }
        #expect(throws: CapstanError.self) { try CredentialSet.parse("a x\na y\n", source: "f") }
        #expect(throws: CapstanError.self) { try CredentialSet.parse("../x y\n", source: "f") }
        #expect(throws: CapstanError.self) { try CredentialSet.parse("", source: "f") }
    }
}

@Suite("HTTPAuthenticator")
struct HTTPAuthenticatorTests {
    let secret = Array("jwt-key-0123456789".utf8)
    var authenticator: HTTPAuthenticator {
        HTTPAuthenticator(credentials: try! CredentialSet([.init(principal: "ops", secret: "pa:ss")]), jwtSecret: secret)
    }

    @Test func acceptsBasicAndBearer() throws {
        #expect(try authenticator.principal(authorization: HTTPAuthenticator.basic(principal: "ops", secret: "pa:ss")) == "ops")
        let token = BearerToken.mint(principal: "ci-bot", secret: secret, lifetime: 60, now: 5000)
        #expect(try authenticator.principal(authorization: "Bearer " + token, now: 5030) == "ci-bot")
    }

    @Test func refusesWrongMissingExpiredAndForgedCredentials() {
        func code(_ header: String?, now: Double = 5000) -> CapstanError.Code? {
            do { _ = try authenticator.principal(authorization: header, now: now); return nil } catch { return error.code }
        }
        #expect(code(nil) == .unauthenticated)
        #expect(code(HTTPAuthenticator.basic(principal: "ops", secret: "pa:sS")) == .unauthenticated)
        #expect(code(HTTPAuthenticator.basic(principal: "other", secret: "pa:ss")) == .unauthenticated)
        #expect(code("Basic !!!") == .unauthenticated)
        let token = BearerToken.mint(principal: "ci-bot", secret: secret, lifetime: 60, now: 5000)
        #expect(code("Bearer " + token, now: 5061) == .unauthenticated)
        let forged = BearerToken.mint(principal: "ci-bot", secret: Array("other-key".utf8), lifetime: 60, now: 5000)
        #expect(code("Bearer " + forged) == .unauthenticated)
        // alg "none" with the signature stripped must not pass.
        let parts = token.split(separator: ".")
        let none = Data(#"{"alg":"none"}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
        #expect(code("Bearer \(none).\(parts[1]).") == .unauthenticated)
        #expect(code("Digest abc") == .unauthenticated)
    }
}
