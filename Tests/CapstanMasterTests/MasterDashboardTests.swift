import CapstanAPI
import CapstanCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import CapstanHTTP
@testable import CapstanMaster

/// The master dashboard's data: server-side paging and filtering, the summary, the event stream, and the page's
/// headers and script.
@Suite("Master dashboard")
struct MasterDashboardTests {
    static func application(_ fixture: MasterFixture) -> some ApplicationProtocol {
        let router = Router()
        MasterDashboardRoutes.register(on: router, master: fixture.master)
        return Application(router: router)
    }

    @Test("Tasks come a page at a time, active first, filtered by state and by text on ID, name, host or app")
    func pagingAndFiltering() async throws {
        let fixture = MasterFixture()
        try await fixture.master.fillForBenchmark(tasks: 120, agents: 2)
        let first = await fixture.master.dashboardTasks(DashboardTaskQuery(offset: 0, limit: 50))
        #expect(first.total == 120)
        #expect(first.tasks.count == 50)
        #expect(first.tasks.first?.id == "bench-task-00000")
        #expect(first.tasks.allSatisfy { $0.state == "TASK_RUNNING" && $0.active })
        let last = await fixture.master.dashboardTasks(DashboardTaskQuery(offset: 100, limit: 50))
        #expect(last.tasks.count == 20)
        #expect(last.tasks.last?.id == "bench-task-00119")
        let expected = (0..<120).filter { "app-\($0 % 100)".contains("app-7") }.count
        let filtered = await fixture.master.dashboardTasks(DashboardTaskQuery(limit: 500, text: "APP-7"))
        #expect(filtered.total == expected)
        #expect(filtered.tasks.allSatisfy { $0.app?.hasPrefix("app-7") == true })
        #expect(await fixture.master.dashboardTasks(DashboardTaskQuery(state: "completed")).total == 0)
        #expect(await fixture.master.dashboardTasks(DashboardTaskQuery(state: "TASK_RUNNING")).total == 120)
        #expect(await fixture.master.dashboardTasks(DashboardTaskQuery(state: "TASK_FAILED")).total == 0)
        let byHost = await fixture.master.dashboardTasks(DashboardTaskQuery(limit: 500, text: "bench-agent-1"))
        #expect(byHost.total == 60)
        let row = try #require(first.tasks.first)
        #expect(row.sandboxURL?.hasPrefix("http://127.0.0.1:") == true)
        #expect(row.sandboxURL?.contains("/sandbox?path=/slaves/") == true, "\(row.sandboxURL ?? "")")
    }

    @Test("The summary counts tasks by state and sums agents' total, used, offered and idle resources")
    func summary() async throws {
        let fixture = MasterFixture()
        try await fixture.master.fillForBenchmark(tasks: 10, agents: 2)
        let summary = await fixture.master.dashboardSummary()
        #expect(summary.taskCounts == ["TASK_RUNNING": 10])
        #expect(summary.agents.count == 2)
        #expect(summary.frameworks.map(\.name) == ["bench-dashboard"])
        #expect(summary.frameworks.first?.activeTasks == 10)
        #expect(summary.resources.total.cpus == 10)
        #expect(summary.resources.used.cpus == 10, "every CPU runs a task")
        #expect(summary.resources.idle.cpus == 0 && summary.resources.offered.cpus == 0)
    }

    @Test("The dashboard stream gets each operator event as a server-sent event, without a whole-state snapshot first")
    func eventStream() async throws {
        let fixture = MasterFixture()
        let (key, events) = await fixture.master.subscribeDashboard()
        #expect(events.queuedBytes == 0, "no SUBSCRIBED snapshot is queued")
        _ = try await fixture.registerAgent()
        let record = try #require(await events.next())
        let text = String(buffer: ServerSentEvents.event(fromRecord: record))
        #expect(text.hasPrefix("data: {"), "\(text)")
        #expect(text.hasSuffix("}\n\n"))
        #expect(text.contains(#""type":"AGENT_ADDED""#), "\(text)")
        #expect(!text.dropLast(2).contains("\n"), "an event is one data line")
        await fixture.master.unsubscribeOperator(key)
        #expect(await events.next() == nil)
    }

    @Test("The page is served with a strict Content-Security-Policy; bad paging parameters are 400")
    func pageAndParameters() async throws {
        let fixture = MasterFixture()
        try await fixture.master.fillForBenchmark(tasks: 3, agents: 1)
        try await Self.application(fixture).test(.router) { client in
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            let policy = page.headers[HTTPField.Name("Content-Security-Policy")!] ?? ""
            #expect(policy.contains("default-src 'self'"))
            #expect(policy.contains("script-src 'self'"))
            #expect(!policy.contains("unsafe"))
            let html = String(buffer: page.body)
            #expect(html.contains(#"<script src="/dashboard/master.js" defer></script>"#))
            #expect(!html.contains("<script>"), "no inline script")
            let script = try await client.execute(uri: "/dashboard/master.js", method: .get)
            #expect(script.headers[.contentType]?.hasPrefix("text/javascript") == true)
            let tasks = try await client.execute(uri: "/api/v1/dashboard/tasks?limit=2&state=all", method: .get)
            #expect(tasks.status == .ok)
            let decoded = try JSONDecoder().decode(DashboardTaskPage.self, from: Data(tasks.body.readableBytesView))
            #expect(decoded.total == 3 && decoded.tasks.count == 2)
            for bad in ["limit=0", "limit=501", "offset=-1", "limit=ten"] {
                let response = try await client.execute(uri: "/api/v1/dashboard/tasks?\(bad)", method: .get)
                #expect(response.status == .badRequest, "\(bad)")
            }
            let summary = try await client.execute(uri: "/api/v1/dashboard/summary", method: .get)
            #expect(try JSONDecoder().decode(DashboardSummary.self, from: Data(summary.body.readableBytesView)).agents.count == 1)
        }
    }

    @Test("The scripts build the DOM from text only: no innerHTML, outerHTML, insertAdjacentHTML, document.write or eval")
    func scriptsNeverParseDataAsMarkup() {
        for (name, script) in [("master.js", MasterDashboardPage.script), ("common.js", DashboardCommon.script)] {
            for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
                #expect(!script.contains(sink), "\(name) uses \(sink)")
            }
        }
    }
}
