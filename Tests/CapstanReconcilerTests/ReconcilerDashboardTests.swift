import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import CapstanHTTP
@testable import CapstanReconciler

/// A status the test changes while the feed watches it.
final class ChangingStatus: Sendable {
    private let current: Mutex<ReconcilerStatus>
    init(_ status: ReconcilerStatus) { current = Mutex(status) }
    func get() -> ReconcilerStatus { current.withLock { $0 } }
    func change(_ body: (inout ReconcilerStatus) -> Void) { current.withLock { body(&$0) } }
}

@Suite("Reconciler dashboard")
struct ReconcilerDashboardTests {
    @Test("Sync and health are separate columns: Synced+Degraded, OutOfSync+Progressing, Missing, Unknown")
    func columns() {
        func app(_ phase: AppPhase, desired: String? = "aaa", running: String? = "aaa", want: Int = 2, have: Int = 2, kind: String = "App") -> AppColumns {
            AppStatus(name: "web", kind: kind, desiredCommit: desired, runningCommit: running, desiredInstances: want, runningInstances: have, phase: phase).columns
        }
        #expect(app(.synced) == AppColumns(sync: "Synced", health: "Healthy"))
        #expect(app(.degraded) == AppColumns(sync: "Synced", health: "Degraded"), "the spec runs but is unhealthy")
        #expect(app(.progressing, running: "bbb") == AppColumns(sync: "OutOfSync", health: "Progressing"))
        #expect(app(.progressing, want: 3) == AppColumns(sync: "OutOfSync", health: "Progressing"), "scaling up")
        #expect(app(.degraded, running: nil, have: 0) == AppColumns(sync: "OutOfSync", health: "Missing"))
        #expect(app(.failed, running: "bbb") == AppColumns(sync: "OutOfSync", health: "Degraded"))
        #expect(app(.unknown) == AppColumns(sync: "Unknown", health: "Unknown"))
    }

    @Test("The feed sends STATUS_CHANGED naming the changed app, and nothing when only the last sync time moves")
    func feedSendsChanges() async throws {
        let status = ChangingStatus(ReconcilerStatus(
            repo: "r", revision: "main", lastSync: Date(), apps: [
                AppStatus(name: "web", desiredInstances: 1, runningInstances: 1, phase: .synced),
                AppStatus(name: "db", desiredInstances: 1, runningInstances: 1, phase: .synced),
            ]))
        let feed = ReconcilerStatusFeed(status: { status.get() }, interval: .milliseconds(20))
        let (key, events) = await feed.subscribe()
        status.change { $0.lastSync = Date().addingTimeInterval(5) }
        try await Task.sleep(for: .milliseconds(200))
        #expect(events.queuedBytes == 0, "a new lastSync alone is no change")
        status.change { $0.apps[1].desiredInstances = 2 }
        let record = try #require(await events.next())
        let text = String(buffer: ServerSentEvents.event(fromRecord: record))
        #expect(text.contains(#""type":"STATUS_CHANGED""#), "\(text)")
        #expect(text.contains(#""apps":["web"]"#), "\(text)")
        await feed.unsubscribe(key)
        #expect(await feed.subscriberCount == 0)
        #expect(await events.next() == nil)
    }

    @Test("The page and its API: strict Content-Security-Policy, columns per app, scripts without markup sinks")
    func pageAndDocument() async throws {
        let routes = ReconcilerRoutes(
            status: { ReconcilerStatus(repo: "r", revision: "main", apps: [AppStatus(name: "web", desiredCommit: "a", runningCommit: "a", desiredInstances: 1, runningInstances: 1, healthyInstances: 1, phase: .synced)]) },
            historyStore: try HistoryStore.inMemory(), verifySignature: nil, onPush: {})
        try await Application(router: routes.router()).test(.router) { client in
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'self'") == true)
            #expect(String(buffer: page.body).contains("/dashboard/reconciler.js"))
            let document = try await client.execute(uri: "/api/v1/dashboard", method: .get)
            let decoded = try ReconcilerJSON.decoder().decode(ReconcilerDashboardDocument.self, from: Data(document.body.readableBytesView))
            #expect(decoded.columns["web"] == AppColumns(sync: "Synced", health: "Healthy"))
            let script = try await client.execute(uri: "/dashboard/reconciler.js", method: .get)
            #expect(script.status == .ok)
        }
        for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
            #expect(!ReconcilerDashboardPage.script.contains(sink), "reconciler.js uses \(sink)")
        }
    }
}
