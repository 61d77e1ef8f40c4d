import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// The web dashboards in a real browser (Debian's headless chromium): a real master, agent and `capstan reconcile`
    /// on a git repository; the pages stay open while git changes, and must show the change without a reload.
    @Suite("Dashboard in a browser", .serialized)
    struct DashboardBrowserTests {
        /// A marker set on a page once it has loaded: still there later means the page was not reloaded.
        static let marker = "window.__capstanMarker"

        static func row(_ app: String, _ column: String) -> String {
            "(document.querySelector('#apps tbody tr[data-app=\"\(app)\"] td[data-col=\"\(column)\"]') || {}).textContent"
        }

        static func runningTasks(of app: String) -> String {
            "Array.from(document.querySelectorAll('#tasks tbody tr[data-state=\"TASK_RUNNING\"]'))"
                + ".filter(function (r) { return r.children[1].textContent === '\(app)'; }).length"
        }

        @Test(
            "master and reconciler pages show live state: a scale committed to git shows on the open pages without a reload",
            Prerequisites.requires("dashboard browser test", HeadlessChromium.prerequisites))
        func pagesFollowGitWithoutReload() async throws {
            try Prerequisites.require(HeadlessChromium.prerequisites)
            try await GitOpsFixture.with { f in
                let command = "echo dashboard-tail-line; exec sleep 600"
                try await f.commit(["apps/web.yaml": GitOpsFixture.app("web", instances: 1, command: command)], "web: one instance")
                try await f.startReconciler()
                try await f.waitSynced("web")
                let browser = try HeadlessChromium(scratch: f.cluster.scratch)
                do {
                    try await Self.check(browser, f, command: command)
                } catch {
                    _ = try? await browser.screenshot("dashboard-failure-gitops.png", page: "gitops")
                    _ = try? await browser.screenshot("dashboard-failure-master.png", page: "master")
                    await browser.stop()
                    throw error
                }
                await browser.stop()
            }
        }

        static func check(_ browser: HeadlessChromium, _ f: GitOpsFixture, command: String) async throws {
            // The reconciler's page: sync and health apart, one instance, connected to its event stream.
            try await browser.open("http://\(f.api)/", page: "gitops")
            try await browser.wait("web at 1/1 on the GitOps page", "\(row("web", "instances")) === '1/1'", page: "gitops")
            try await browser.wait("Synced and Healthy", "\(row("web", "sync")) === 'Synced' && \(row("web", "health")) === 'Healthy'", page: "gitops")
            try await browser.wait("the GitOps page's event stream", "document.body.dataset.live === 'live'", page: "gitops")
            _ = try await browser.evaluate("\(marker) = 'gitops'; true", page: "gitops")
            try await browser.screenshot("dashboard-gitops-1-instance.png", page: "gitops")

            // The master's page: agents, frameworks, one running task of web.
            try await browser.open("http://\(f.cluster.master)/", page: "master")
            try await browser.wait("one running web task on the master page", "\(runningTasks(of: "web")) === 1", page: "master")
            try await browser.wait("the master page's event stream", "document.body.dataset.live === 'live'", page: "master")
            try await browser.wait("the agent row", "document.querySelectorAll('#agents tbody tr').length === 1", page: "master")
            try await browser.wait("the reconciler framework row", "document.querySelector('#frameworks tbody').textContent.includes('capstan')", page: "master")
            _ = try await browser.evaluate("\(marker) = 'master'; true", page: "master")
            try await browser.screenshot("dashboard-master-1-task.png", page: "master")

            // Scale in git: both open pages follow, pushed by their event streams.
            try await f.commit(["apps/web.yaml": GitOpsFixture.app("web", instances: 2, command: command)], "web: scale to 2")
            try await browser.wait("web at 2/2 on the open GitOps page", "\(row("web", "instances")) === '2/2'", page: "gitops", timeout: 90)
            try await browser.wait("the GitOps page was not reloaded", "\(marker) === 'gitops'", page: "gitops", timeout: 1)
            try await browser.wait("two running web tasks on the open master page", "\(runningTasks(of: "web")) === 2", page: "master", timeout: 90)
            try await browser.wait("the master page was not reloaded", "\(marker) === 'master'", page: "master", timeout: 1)
            let events = try await browser.evaluate("Number(document.body.dataset.events || 0)", page: "master") as? Int ?? 0
            #expect(events > 0, "the master page got no server-sent event")
            try await browser.screenshot("dashboard-gitops-2-instances.png", page: "gitops")
            try await browser.screenshot("dashboard-master-2-tasks.png", page: "master")

            // The app's detail: why-not-converged panel and the history timeline with the scale.
            _ = try await browser.evaluate("document.querySelector('#apps tbody tr[data-app=\"web\"]').click(); true", page: "gitops")
            try await browser.wait("the scale on the timeline", "!!document.querySelector('#timeline li[data-event=\"scaled\"]')", page: "gitops")
            try await browser.wait(
                "the panel says converged", "document.getElementById('why-text').textContent.startsWith('converged: 2/2')", page: "gitops")
            try await browser.screenshot("dashboard-gitops-detail.png", page: "gitops")

            // The sandbox link of a task opens the agent's sandbox page, which tails stdout.
            let link = try await browser.evaluate("document.querySelector('#tasks tbody a').href", page: "master") as? String
            let sandbox = try #require(link, "no sandbox link on the master page")
            try await browser.open(sandbox, page: "sandbox")
            try await browser.wait("stdout in the sandbox listing", "!!document.querySelector('#files tbody tr[data-file=\"stdout\"]')", page: "sandbox")
            try await browser.wait("the tail of stdout", "document.getElementById('tail').textContent.includes('dashboard-tail-line')", page: "sandbox")
            try await browser.screenshot("dashboard-sandbox.png", page: "sandbox")
        }
    }
}
