import CapstanAuth
import CapstanCore
import CapstanReconciler
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

extension ReconcilerRoutesTests {
    @Test("suspend, resume and rollback routes call the reconciler, answer 404 for an unknown app, and sit behind authentication")
    func appControlRoutes() async throws {
        let calls = Mutex<[String]>([])
        var routes = ReconcilerRoutes(
            status: { ReconcilerStatus.sample }, historyStore: try HistoryStore.inMemory(), verifySignature: nil, onPush: {})
        routes.appControls = AppControlHandlers(
            setSuspended: { app, suspended in
                guard app == "web" else { throw CapstanError(.notFound, "no app named '\(app)'") }
                calls.withLock { $0.append("\(suspended ? "suspend" : "resume") \(app)") }
                return AppControlReply(app: app, suspended: suspended, pinned: nil, message: "ok")
            },
            rollback: { app, request in
                calls.withLock { $0.append("rollback \(app) \(request.revision ?? "-") \(request.clear)") }
                return AppControlReply(app: app, suspended: false, pinned: request.revision, message: "pinned")
            },
            controls: { ReconcilerControls(suspended: ["web"]) })
        let authenticator = HTTPAuthenticator(credentials: try CredentialSet([.init(principal: "ops", secret: "s3")]))
        let auth: HTTPFields = [.authorization: HTTPAuthenticator.basic(principal: "ops", secret: "s3")]
        try await Application(router: routes.router(authenticator: authenticator)).test(.router) { client in
            let anonymous = try await client.execute(uri: "/api/v1/apps/web/suspend", method: .post)
            #expect(anonymous.status == .unauthorized)
            let suspend = try await client.execute(uri: "/api/v1/apps/web/suspend", method: .post, headers: auth)
            #expect(suspend.status == .ok)
            let reply = try ReconcilerJSON.decode(AppControlReply.self, from: Data(suspend.body.readableBytesView))
            #expect(reply.suspended)
            let resume = try await client.execute(uri: "/api/v1/apps/web/resume", method: .post, headers: auth)
            #expect(resume.status == .ok)
            let unknown = try await client.execute(uri: "/api/v1/apps/nope/suspend", method: .post, headers: auth)
            #expect(unknown.status == .notFound)
            let error = try ReconcilerJSON.decode(ReconcilerAPIErrorBody.self, from: Data(unknown.body.readableBytesView))
            #expect(error.error.contains("no app named 'nope'"))
            let rollback = try await client.execute(
                uri: "/api/v1/apps/web/rollback", method: .post, headers: auth, body: ByteBuffer(string: #"{"revision":"v1"}"#))
            #expect(rollback.status == .ok)
            let bare = try await client.execute(uri: "/api/v1/apps/web/rollback", method: .post, headers: auth)
            #expect(bare.status == .ok)
            let bad = try await client.execute(uri: "/api/v1/apps/web/rollback", method: .post, headers: auth, body: ByteBuffer(string: "[1]"))
            #expect(bad.status == .badRequest)
            let controls = try await client.execute(uri: "/api/v1/controls", method: .get, headers: auth)
            #expect(try ReconcilerJSON.decode(ReconcilerControls.self, from: Data(controls.body.readableBytesView)).suspended == ["web"])
        }
        #expect(calls.withLock { $0 } == ["suspend web", "resume web", "rollback web v1 false", "rollback web - false"])
    }
}
