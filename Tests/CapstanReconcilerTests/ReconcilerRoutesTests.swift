import CapstanAuth
import CapstanReconciler
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// Counts the syncs the webhook asked for.
actor PushCounter {
    private(set) var count = 0
    func push() { count += 1 }
}

@Suite("ReconcilerRoutes")
struct ReconcilerRoutesTests {
    static let body = #"{"ref":"refs/heads/main","after":"cccccccccccc"}"#

    /// Accepts exactly `sha256=good` over `body`, standing in for the HMAC check.
    static let verify: ReconcilerRoutes.SignatureCheck = { bytes, header in
        bytes == Array(body.utf8) && header == "sha256=good"
    }

    func app(
        verify: ReconcilerRoutes.SignatureCheck? = Self.verify, pushes: PushCounter, store: HistoryStore? = nil,
        bodyLimit: Int = 5 << 20, acceptUnsigned: Bool = false
    ) throws -> some ApplicationProtocol {
        let store = try store ?? HistoryStore.inMemory()
        var routes = ReconcilerRoutes(
            status: { ReconcilerStatus.sample }, historyStore: store, verifySignature: verify,
            onPush: { await pushes.push() }, webhookBodyLimit: bodyLimit)
        routes.acceptsUnsignedWebhooks = acceptUnsigned
        return Application(router: routes.router())
    }

    @Test("Without a secret the webhook is refused (403, nothing fetched) unless unsigned pushes were asked for")
    func noSecretRefusesUnlessInsecure() async throws {
        let pushes = PushCounter()
        try await app(verify: nil, pushes: pushes).test(.router) { client in
            let response = try await post(client, signature: nil)
            #expect(response.status == .forbidden)
            let error = try ReconcilerJSON.decode(ReconcilerAPIErrorBody.self, from: Data(response.body.readableBytesView))
            #expect(error.error.contains("--webhook-insecure"))
        }
        #expect(await pushes.count == 0)
        try await app(verify: nil, pushes: pushes, acceptUnsigned: true).test(.router) { client in
            let accepted = try await post(client, signature: nil)
            #expect(accepted.status == .accepted)
        }
        #expect(await pushes.count == 1)
    }

    func post(_ client: some TestClientProtocol, signature: String?, event: String? = "push", body: String = Self.body) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let signature { headers[ReconcilerRoutes.signatureHeader] = signature }
        if let event { headers[ReconcilerRoutes.eventHeader] = event }
        return try await client.execute(uri: "/api/v1/webhook", method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    @Test("A push with a good signature triggers one sync and is answered 202")
    func goodSignatureTriggers() async throws {
        let pushes = PushCounter()
        try await app(pushes: pushes).test(.router) { client in
            let response = try await post(client, signature: "sha256=good")
            #expect(response.status == .accepted)
            #expect(try ReconcilerJSON.decode(WebhookReply.self, from: Data(response.body.readableBytesView)) == WebhookReply(event: "push", triggered: true))
        }
        #expect(await pushes.count == 1)
    }

    @Test("A bad or missing signature is answered 401 with a JSON error, and nothing is fetched", arguments: [
        "sha256=bad", nil,
    ])
    func badSignatureRefused(signature: String?) async throws {
        let pushes = PushCounter()
        try await app(pushes: pushes).test(.router) { client in
            let response = try await post(client, signature: signature)
            #expect(response.status == .unauthorized)
            #expect(response.headers[.contentType] == "application/json")
            let error = try ReconcilerJSON.decode(ReconcilerAPIErrorBody.self, from: Data(response.body.readableBytesView))
            #expect(error.error.contains("X-Hub-Signature-256"))
            // A ping with a bad signature is refused too.
            #expect(try await post(client, signature: signature, event: "ping").status == .unauthorized)
        }
        #expect(await pushes.count == 0)
    }

    @Test("With WebhookSignature's HMAC-SHA256 check, GitHub's signature syncs and a tampered body is refused")
    func realSignature() async throws {
        let signature = try WebhookSignature(secret: "It's a Secret to Everybody")
        let pushes = PushCounter()
        try await app(verify: signature.check, pushes: pushes).test(.router) { client in
            let good = try await post(client, signature: signature.header(for: Array(Self.body.utf8)))
            #expect(good.status == .accepted)
            let tampered = try await post(
                client, signature: signature.header(for: Array(Self.body.utf8)), body: Self.body.replacingOccurrences(of: "main", with: "evil"))
            #expect(tampered.status == .unauthorized)
        }
        #expect(await pushes.count == 1)
    }

    @Test("A signed ping is answered 200 and does not sync")
    func pingAnswered() async throws {
        let pushes = PushCounter()
        try await app(pushes: pushes).test(.router) { client in
            let response = try await post(client, signature: "sha256=good", event: "ping")
            #expect(response.status == .ok)
            #expect(try ReconcilerJSON.decode(WebhookReply.self, from: Data(response.body.readableBytesView)) == WebhookReply(event: "ping", triggered: false))
        }
        #expect(await pushes.count == 0)
    }

    @Test("With --authenticate-http the status and history need credentials; /health and the signed webhook stay reachable")
    func authenticatedAPI() async throws {
        let pushes = PushCounter()
        let store = try HistoryStore.inMemory()
        let routes = ReconcilerRoutes(
            status: { ReconcilerStatus.sample }, historyStore: store, verifySignature: Self.verify, onPush: { await pushes.push() })
        let authenticator = HTTPAuthenticator(credentials: try CredentialSet([.init(principal: "ops", secret: "s3")]))
        try await Application(router: routes.router(authenticator: authenticator)).test(.router) { client in
            let anonymous = try await client.execute(uri: "/api/v1/status", method: .get)
            #expect(anonymous.status == .unauthorized)
            let wrong = try await client.execute(
                uri: "/api/v1/status", method: .get, headers: [.authorization: HTTPAuthenticator.basic(principal: "ops", secret: "no")])
            #expect(wrong.status == .unauthorized)
            let right = try await client.execute(
                uri: "/api/v1/history/web", method: .get, headers: [.authorization: HTTPAuthenticator.basic(principal: "ops", secret: "s3")])
            #expect(right.status == .ok)
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok)
            let push = try await post(client, signature: "sha256=good")
            #expect(push.status == .accepted)
        }
        #expect(await pushes.count == 1)
    }

    @Test("With --webhook-insecure and no secret an unsigned push (no event header) syncs")
    func noSecretAcceptsUnsigned() async throws {
        let pushes = PushCounter()
        try await app(verify: nil, pushes: pushes, acceptUnsigned: true).test(.router) { client in
            let response = try await post(client, signature: nil, event: nil)
            #expect(response.status == .accepted)
        }
        #expect(await pushes.count == 1)
    }

    @Test("A body over the limit is answered 413 and does not sync")
    func oversizedBody() async throws {
        let pushes = PushCounter()
        try await app(verify: nil, pushes: pushes, bodyLimit: 16).test(.router) { client in
            let response = try await post(client, signature: nil)
            #expect(response.status == .contentTooLarge)
        }
        #expect(await pushes.count == 0)
    }

    @Test("GET /api/v1/status answers the status document")
    func statusJSON() async throws {
        try await app(pushes: PushCounter()).test(.router) { client in
            try await client.execute(uri: "/api/v1/status", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
                #expect(object["formatVersion"] as? Int == 1)
                #expect(object["headCommit"] as? String == "cccccccccccc")
                #expect((object["diagnostics"] as? [String])?.count == 1)
                #expect(try ReconcilerJSON.decode(ReconcilerStatus.self, from: Data(response.body.readableBytesView)) == .sample)
            }
        }
    }

    @Test("GET /api/v1/history/{app} answers the app's entries newest first, honours and checks ?limit=")
    func historyJSON() async throws {
        let store = try HistoryStore.inMemory()
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        try await store.record(HistoryEntry(app: "web", event: .created, commit: "aaaaaaaaaaaa", specLabel: "s1", message: "created", time: t0))
        try await store.record(HistoryEntry(app: "web", event: .updated, commit: "bbbbbbbbbbbb", specLabel: "s2", message: "image changed", time: t0 + 60))
        try await app(pushes: PushCounter(), store: store).test(.router) { client in
            try await client.execute(uri: "/api/v1/history/web", method: .get) { response in
                #expect(response.status == .ok)
                let page = try ReconcilerJSON.decode(HistoryPage.self, from: Data(response.body.readableBytesView))
                #expect(page.app == "web")
                #expect(page.entries.map(\.event) == [.updated, .created])
                let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
                let first = try #require((object["entries"] as? [[String: Any]])?.first)
                #expect(first["event"] as? String == "updated")
                #expect(first["time"] as? String == "2026-09-21T14:14:20Z")
            }
            try await client.execute(uri: "/api/v1/history/web?limit=1", method: .get) { response in
                let page = try ReconcilerJSON.decode(HistoryPage.self, from: Data(response.body.readableBytesView))
                #expect(page.entries.map(\.commit) == ["bbbbbbbbbbbb"])
            }
            try await client.execute(uri: "/api/v1/history/unknown", method: .get) { response in
                #expect(response.status == .ok)
                let page = try ReconcilerJSON.decode(HistoryPage.self, from: Data(response.body.readableBytesView))
                #expect(page.entries.isEmpty)
            }
            try await client.execute(uri: "/api/v1/history/web?limit=zero", method: .get) { response in
                #expect(response.status == .badRequest)
                let body = try ReconcilerJSON.decode(ReconcilerAPIErrorBody.self, from: Data(response.body.readableBytesView))
                #expect(body.error.contains("limit"))
            }
        }
    }

    @Test("/health, /version and /metrics are served, the metrics counting apps per phase")
    func serviceEndpoints() async throws {
        try await app(pushes: PushCounter()).test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in #expect(response.status == .ok) }
            try await client.execute(uri: "/version", method: .get) { response in
                #expect(String(buffer: response.body).contains("capstan_version"))
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains(#"capstan_reconciler_apps{phase="Progressing"} 1"#))
                #expect(text.contains(#"capstan_reconciler_apps{phase="Failed"} 0"#))
                #expect(text.contains("capstan_reconciler_error 1"))
            }
        }
    }
}
