import CapstanHTTP
import Hummingbird

extension ReconcilerRoutes {
    /// The web dashboard (behind the API's authentication when it has one):
    ///
    /// - `GET /`: the page (``ReconcilerDashboardPage``), with its script and styles under `/dashboard/`.
    /// - `GET /api/v1/dashboard`: ``ReconcilerDashboardDocument`` (the status plus sync and health per app).
    /// - `GET /api/v1/events`: server-sent events from ``ReconcilerStatusFeed`` (`STATUS_CHANGED`, `HEARTBEAT`).
    func registerDashboard<Context: RequestContext>(on router: Router<Context>) {
        let routes = self
        router.get("/") { _, _ in DashboardAsset.html(ReconcilerDashboardPage.html) }
        DashboardAsset.registerAssets(on: router, scripts: ["reconciler.js": ReconcilerDashboardPage.script])
        router.get("api/v1/dashboard") { _, _ in
            await routes.answeringJSON { try Response.reconcilerJSON(ReconcilerDashboardDocument(status: await routes.status())) }
        }
        router.get("api/v1/events") { _, _ in
            let feed = routes.statusFeed
            let (key, events) = await feed.subscribe()
            return ServerSentEvents.response(subscriber: events) { await feed.unsubscribe(key) }
        }
    }
}
