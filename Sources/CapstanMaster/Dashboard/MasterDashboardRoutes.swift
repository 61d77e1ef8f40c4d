import CapstanCore
import CapstanHTTP
import Foundation
import Hummingbird
import NIOCore

/// The master's web dashboard, behind the same authentication as its APIs:
///
/// - `GET /`: the page (``MasterDashboardPage``), with its script and styles under `/dashboard/`.
/// - `GET /api/v1/dashboard/summary`: ``DashboardSummary``.
/// - `GET /api/v1/dashboard/tasks?offset=&limit=&state=&q=`: one ``DashboardTaskPage``.
/// - `GET /api/v1/dashboard/events`: server-sent events, one per operator event (TASK_ADDED, TASK_UPDATED,
///   AGENT_ADDED, …) as the operator API's SUBSCRIBE publishes them; the page re-reads what it shows on each.
enum MasterDashboardRoutes {
    static func register(on router: Router<BasicRequestContext>, master: Master) {
        router.get("/") { _, _ in DashboardAsset.html(MasterDashboardPage.html) }
        DashboardAsset.registerAssets(on: router, scripts: ["master.js": MasterDashboardPage.script])
        router.get("api/v1/dashboard/summary") { _, _ in
            try await answering { try dashboardJSON(await master.dashboardSummary()) }
        }
        router.get("api/v1/dashboard/tasks") { request, _ in
            try await answering {
                let query = try taskQuery(request)
                return try dashboardJSON(await master.dashboardTasks(query))
            }
        }
        router.get("api/v1/dashboard/events") { _, _ in
            let (key, events) = await master.subscribeDashboard()
            return ServerSentEvents.response(subscriber: events) { await master.unsubscribeOperator(key) }
        }
    }

    static func taskQuery(_ request: Request) throws(CapstanError) -> DashboardTaskQuery {
        let parameters = request.uri.queryParameters
        func integer(_ name: String, _ fallback: Int, _ range: ClosedRange<Int>) throws(CapstanError) -> Int {
            guard let text = parameters.get(name), !text.isEmpty else { return fallback }
            guard let value = Int(text), range.contains(value) else {
                throw CapstanError(.invalidArgument, "'\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
            }
            return value
        }
        return DashboardTaskQuery(
            offset: try integer("offset", 0, 0...Int(Int32.max)),
            limit: try integer("limit", DashboardTaskQuery.defaultLimit, 1...DashboardTaskQuery.maxLimit),
            state: parameters.get("state") ?? "active", text: String((parameters.get("q") ?? "").prefix(200)))
    }

    static func dashboardJSON(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
