import CapstanCore
import CapstanHTTP
import Foundation
import Hummingbird
import NIOCore

/// What the app-control routes call (the reconciler actor, or a test).
public struct AppControlHandlers: Sendable {
    public var setSuspended: @Sendable (_ app: String, _ suspended: Bool) async throws -> AppControlReply
    public var rollback: @Sendable (_ app: String, _ request: RollbackRequest) async throws -> AppControlReply
    public var controls: @Sendable () async -> ReconcilerControls

    public init(
        setSuspended: @escaping @Sendable (_ app: String, _ suspended: Bool) async throws -> AppControlReply,
        rollback: @escaping @Sendable (_ app: String, _ request: RollbackRequest) async throws -> AppControlReply,
        controls: @escaping @Sendable () async -> ReconcilerControls
    ) {
        self.setSuspended = setSuspended
        self.rollback = rollback
        self.controls = controls
    }

    /// Handlers that call `reconciler`.
    public static func calling(_ reconciler: Reconciler) -> AppControlHandlers {
        AppControlHandlers(
            setSuspended: { app, suspended in try await reconciler.setSuspended(app, suspended) },
            rollback: { app, request in try await reconciler.rollback(app, revision: request.revision, clear: request.clear) },
            controls: { await reconciler.controls() })
    }
}

extension ReconcilerRoutes {
    /// `POST /api/v1/apps/{app}/suspend` and `/resume` (an ``AppControlReply``; 404 for an unknown app),
    /// `POST /api/v1/apps/{app}/rollback` with a ``RollbackRequest`` body, and `GET /api/v1/controls`
    /// (``ReconcilerControls``). Behind the API's authentication like every route but the webhook.
    func registerAppControls<Context: RequestContext>(on router: Router<Context>) {
        guard let handlers = appControls else { return }
        let routes = self
        router.post("api/v1/apps/{app}/suspend") { _, context in
            await routes.answeringJSON {
                try Response.reconcilerJSON(try await handlers.setSuspended(try context.parameters.require("app"), true))
            }
        }
        router.post("api/v1/apps/{app}/resume") { _, context in
            await routes.answeringJSON {
                try Response.reconcilerJSON(try await handlers.setSuspended(try context.parameters.require("app"), false))
            }
        }
        router.post("api/v1/apps/{app}/rollback") { request, context in
            await routes.answeringJSON {
                let app = try context.parameters.require("app")
                let body = try await request.body.collect(upTo: 64 << 10)
                let parsed: RollbackRequest
                if body.readableBytes == 0 {
                    parsed = RollbackRequest()
                } else {
                    do {
                        parsed = try ReconcilerJSON.decode(RollbackRequest.self, from: Data(body.readableBytesView))
                    } catch {
                        throw APIError(.badRequest, "the body is not a rollback request ({\"revision\": \"…\", \"clear\": false})")
                    }
                }
                return try Response.reconcilerJSON(try await handlers.rollback(app, parsed))
            }
        }
        router.get("api/v1/controls") { _, _ in
            await routes.answeringJSON { try Response.reconcilerJSON(await handlers.controls()) }
        }
    }
}
