import CapstanAuth
import CapstanCore
import CapstanHTTP
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus

/// The reconciler's HTTP API, which the reconciler daemon serves (its address is the framework's `webui_url`):
///
/// - `POST /api/v1/webhook`: a GitHub-style push hook. With a signature check configured, a body whose
///   `X-Hub-Signature-256` does not verify is answered 401 and nothing is fetched. `X-GitHub-Event: ping` is
///   answered 200; any other event triggers a sync (`onPush`) and is answered 202.
/// - `POST /api/v1/sync`: fetch git now (`capstan sync`); answered 202. Requests are coalesced: many syncs while a
///   fetch runs make one more fetch. Behind the API's authentication when it has one.
/// - `GET /api/v1/status`: the `ReconcilerStatus` document.
/// - `GET /api/v1/history/{app}?limit=N`: `{"app": …, "entries": [HistoryEntry…]}`, newest first.
/// - `POST /api/v1/apps/{app}/suspend|resume|rollback`, `GET /api/v1/controls` (``registerAppControls(on:)``).
/// - `GET /`: the web dashboard, with `GET /api/v1/dashboard` and the event stream `GET /api/v1/events`
///   (``ReconcilerRoutes/registerDashboard(on:)``).
/// - `/health`, `/version`, `/metrics` (through `ServiceEndpoints`, from `router(metrics:)`).
///
/// The routes call closures rather than a protocol, so the reconciler actor (or a test) plugs in whatever it
/// has without conforming to anything; errors are answered as `{"error": "…"}` with the status
/// `APIError.status(for:)` gives the error's code.
public struct ReconcilerRoutes: Sendable {
    /// Checks a webhook body against its `X-Hub-Signature-256` header value (nil when the header is absent).
    public typealias SignatureCheck = @Sendable (_ body: [UInt8], _ signatureHeader: String?) -> Bool

    /// The current status.
    public var status: @Sendable () async -> ReconcilerStatus
    /// An app's newest `limit` history entries, newest first.
    public var history: @Sendable (_ app: String, _ limit: Int) async throws -> [HistoryEntry]
    /// The webhook's signature check; nil when no secret is configured, and then the webhook is refused (403)
    /// unless `acceptsUnsignedWebhooks` (`--webhook-insecure`).
    public var verifySignature: SignatureCheck?
    /// Accept unsigned pushes when no secret is configured (a push only makes the reconciler fetch its
    /// configured repository sooner, but an open endpoint lets anyone make it fetch as often as they like).
    public var acceptsUnsignedWebhooks = false
    /// Asks the reconciler to fetch git now; called for verified, non-ping webhook deliveries and `POST /api/v1/sync`.
    public var onPush: @Sendable () async -> Void
    /// The largest webhook body read; a bigger one is answered 413.
    public var webhookBodyLimit: Int
    public var logger: Logger
    /// `capstan suspend`, `resume`, `rollback` and the controls `capstan diff` reads (``registerAppControls(on:)``); nil: not served.
    public var appControls: AppControlHandlers?
    /// Status changes for the dashboard's event stream (`GET /api/v1/events`).
    public let statusFeed: ReconcilerStatusFeed

    public static let signatureHeader = HTTPField.Name("X-Hub-Signature-256")!
    public static let eventHeader = HTTPField.Name("X-GitHub-Event")!
    public static let deliveryHeader = HTTPField.Name("X-GitHub-Delivery")!
    /// The default and the largest `limit` of the history route.
    public static let defaultHistoryLimit = 100
    public static let maxHistoryLimit = 10_000

    public init(
        status: @escaping @Sendable () async -> ReconcilerStatus,
        history: @escaping @Sendable (_ app: String, _ limit: Int) async throws -> [HistoryEntry],
        verifySignature: SignatureCheck?,
        onPush: @escaping @Sendable () async -> Void,
        webhookBodyLimit: Int = 5 << 20,
        logger: Logger = Logger(label: "capstan.reconciler.http")
    ) {
        self.status = status
        self.history = history
        self.statusFeed = ReconcilerStatusFeed(status: status)
        self.verifySignature = verifySignature
        self.onPush = onPush
        self.webhookBodyLimit = webhookBodyLimit
        self.logger = logger
    }

    /// Routes whose history comes straight from a `HistoryStore`.
    public init(
        status: @escaping @Sendable () async -> ReconcilerStatus,
        historyStore: HistoryStore,
        verifySignature: SignatureCheck?,
        onPush: @escaping @Sendable () async -> Void,
        webhookBodyLimit: Int = 5 << 20,
        logger: Logger = Logger(label: "capstan.reconciler.http")
    ) {
        self.init(
            status: status, history: { app, limit in try await historyStore.history(app: app, limit: limit) },
            verifySignature: verifySignature, onPush: onPush, webhookBodyLimit: webhookBodyLimit, logger: logger)
    }

    /// A router with the API plus `/health`, `/version` and `/metrics`; the metrics carry the number of apps per
    /// phase (`capstan_reconciler_apps{phase="Synced"}`) and whether HEAD is unapplied (`capstan_reconciler_error`).
    /// With `authenticator`, everything but `/health`, `/version` and the webhook (which has its own signature)
    /// needs credentials (401 otherwise).
    public func router(
        metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), authenticator: HTTPAuthenticator? = nil
    ) -> Router<BasicRequestContext> {
        let router = Router()
        if let authenticator {
            router.add(
                middleware: AuthenticationMiddleware(authenticator: authenticator, openPrefixes: ["/health", "/version", "/api/v1/webhook"]))
        }
        let status = self.status
        ServiceEndpoints.register(on: router, metrics: metrics) {
            let current = await status()
            for phase in AppPhase.allCases {
                let count = current.apps.filter { $0.phase == phase }.count
                metrics.makeGauge(name: "capstan_reconciler_apps", labels: [("phase", phase.rawValue)]).set(Double(count))
            }
            metrics.makeGauge(name: "capstan_reconciler_error").set(current.error == nil ? 0.0 : 1.0)
        }
        register(on: router)
        return router
    }

    /// Adds the `/api/v1/…` routes to `router`.
    public func register<Context: RequestContext>(on router: Router<Context>) {
        let routes = self
        router.post("api/v1/webhook") { request, _ in
            await routes.answeringJSON { try await routes.webhook(request) }
        }
        router.post("api/v1/sync") { _, _ in
            await routes.answeringJSON {
                routes.logger.info("Sync asked through the API: fetching now")
                await routes.onPush()
                return try Response.reconcilerJSON(WebhookReply(event: "sync", triggered: true), status: .accepted)
            }
        }
        router.get("api/v1/status") { _, _ in
            await routes.answeringJSON { try Response.reconcilerJSON(await routes.status()) }
        }
        router.get("api/v1/history/{app}") { request, context in
            await routes.answeringJSON {
                let app = try context.parameters.require("app")
                let limit = try Self.limit(request.uri.queryParameters.get("limit"))
                let entries = try await routes.history(app, limit)
                return try Response.reconcilerJSON(HistoryPage(app: app, entries: entries))
            }
        }
        registerAppControls(on: router)
        registerDashboard(on: router)
    }

    // MARK: Handlers

    private func webhook(_ request: Request) async throws -> Response {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: webhookBodyLimit)
        } catch {
            throw APIError(.contentTooLarge, "The webhook body is larger than \(webhookBodyLimit) bytes")
        }
        let event = request.headers[Self.eventHeader] ?? "push"
        var metadata: Logger.Metadata = ["event": "\(event)"]
        if let delivery = request.headers[Self.deliveryHeader] { metadata["delivery"] = "\(delivery)" }
        guard verifySignature != nil || acceptsUnsignedWebhooks else {
            logger.warning("Webhook refused: no webhook secret is configured", metadata: metadata)
            throw APIError(
                .forbidden,
                "The webhook is off: this reconciler has no webhook secret (--webhook-secret-file or CAPSTAN_WEBHOOK_SECRET); "
                    + "start it with --webhook-insecure to accept unsigned pushes; nothing was fetched")
        }
        if let verifySignature {
            let signature = request.headers[Self.signatureHeader]
            guard verifySignature(Array(buffer.readableBytesView), signature) else {
                logger.warning("Webhook refused: bad or missing signature", metadata: metadata)
                let why = signature == nil ? "The X-Hub-Signature-256 header is missing" : "The X-Hub-Signature-256 signature does not match the body"
                throw APIError(.unauthorized, "\(why); nothing was fetched")
            }
        }
        if event == "ping" {
            logger.info("Webhook ping", metadata: metadata)
            return try Response.reconcilerJSON(WebhookReply(event: event, triggered: false))
        }
        logger.info("Webhook: syncing now", metadata: metadata)
        await onPush()
        return try Response.reconcilerJSON(WebhookReply(event: event, triggered: true), status: .accepted)
    }

    static func limit(_ text: String?) throws -> Int {
        guard let text else { return defaultHistoryLimit }
        guard let limit = Int(text), (1...maxHistoryLimit).contains(limit) else {
            throw APIError(.badRequest, "'limit' must be a whole number from 1 to \(maxHistoryLimit), not '\(text)'")
        }
        return limit
    }

    /// Runs a handler, answering every error as `{"error": "…"}` with its status.
    func answeringJSON(_ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch let error as APIError {
            return Response.reconcilerError(error.status, error.message)
        } catch let error as CapstanError {
            return Response.reconcilerError(APIError.status(for: error.code), error.description)
        } catch let error as any HTTPResponseError {
            return Response.reconcilerError(error.status, "\(error)")
        } catch {
            logger.error("Reconciler API request failed", metadata: ["error": "\(error)"])
            return Response.reconcilerError(.internalServerError, "\(error)")
        }
    }
}

/// The answer of `POST /api/v1/webhook`.
public struct WebhookReply: Codable, Sendable, Equatable {
    /// The `X-GitHub-Event` (or "push" when absent).
    public var event: String
    /// Whether a sync was asked for.
    public var triggered: Bool

    public init(event: String, triggered: Bool) {
        self.event = event
        self.triggered = triggered
    }
}

/// The error document of the reconciler API.
public struct ReconcilerAPIErrorBody: Codable, Sendable, Equatable {
    public var error: String

    public init(error: String) { self.error = error }
}

extension Response {
    /// A JSON response in the reconciler API's encoding (camelCase, ISO-8601 dates).
    static func reconcilerJSON(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try ReconcilerJSON.encode(value))))
    }

    static func reconcilerError(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let data = (try? ReconcilerJSON.encode(ReconcilerAPIErrorBody(error: message))) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
