import AsyncHTTPClient
import CapstanCore
import CapstanHTTP
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

extension DashboardBenchmark {
    /// Timings of the dashboard's reads against a master with many tasks, over real HTTP on 127.0.0.1.
    public struct Report: Sendable {
        public var tasks: Int
        public var agents: Int
        public var fillSeconds: Double
        /// The first task page's request, cold (the first request to the server).
        public var firstPageSeconds: Double
        /// Median and slowest of the following task-page requests.
        public var pageMedianSeconds: Double
        public var pageMaxSeconds: Double
        /// A filtered page (`q=` an app name), median.
        public var filteredMedianSeconds: Double
        public var summaryMedianSeconds: Double
        /// What a browser fetches before the first page of tasks shows, one after the other: the page, its two
        /// scripts and style sheet, the summary and the first task page.
        public var firstPaintSeconds: Double
        public var pageBytes: Int
        /// The legacy whole-state document (`/state`), which Mesos' web UI polled every second, for comparison.
        public var stateSeconds: Double
        public var stateBytes: Int

        public var text: String {
            func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
            return """
                dashboard: \(tasks) tasks on \(agents) agents (master filled through its scheduler path in \(String(format: "%.2f", fillSeconds)) s)
                first task page (50 rows, \(pageBytes) bytes): first request \(ms(firstPageSeconds)), median \(ms(pageMedianSeconds)), slowest \(ms(pageMaxSeconds))
                filtered page (q=app-7): median \(ms(filteredMedianSeconds)); summary: median \(ms(summaryMedianSeconds))
                time to first page (HTML + scripts + styles + summary + first task page, sequential): \(ms(firstPaintSeconds))
                whole /state for comparison: \(stateBytes) bytes in \(ms(stateSeconds))
                """
        }
    }

    /// Fills a master, serves it on 127.0.0.1 (an ephemeral port) and times the dashboard's requests.
    public static func run(tasks: Int, agents: Int, samples: Int, logger: Logger) async throws -> Report {
        let started = ContinuousClock.now
        let master = try await Self.master(tasks: tasks, agents: agents, logger: logger)
        let fillSeconds = (ContinuousClock.now - started).seconds
        let router = Router()
        MasterRoutes.register(on: router, master: master)
        MasterDashboardRoutes.register(on: router, master: master)
        let bound = BoundAddress()
        let app = try HTTPServer.application(
            router: router, listen: HostPort(host: "127.0.0.1", port: 0), serverName: "capstan-bench-dashboard", logger: logger
        ) { address in bound.set(address) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        return try await withThrowingTaskGroup(of: Report?.self) { tasksGroup in
            tasksGroup.addTask {
                try await group.run()
                return nil
            }
            do {
                let base = "http://\(try await bound.value())"
                let client = HTTPClient.shared
                func get(_ path: String) async throws -> (seconds: Double, bytes: Int) {
                    let start = ContinuousClock.now
                    let response = try await client.execute(HTTPClientRequest(url: base + path), timeout: .seconds(60))
                    guard response.status == .ok else {
                        throw CapstanError(.internal, "GET \(path) answered \(response.status.code)")
                    }
                    let body = try await response.body.collect(upTo: 1 << 30)
                    return ((ContinuousClock.now - start).seconds, body.readableBytes)
                }
                let page = "/api/v1/dashboard/tasks?offset=0&limit=50&state=active&q="
                let first = try await get(page)
                var pages: [Double] = []
                var filtered: [Double] = []
                var summaries: [Double] = []
                for _ in 0..<max(1, samples) {
                    pages.append(try await get(page).seconds)
                    filtered.append(try await get("/api/v1/dashboard/tasks?offset=0&limit=50&state=active&q=app-7").seconds)
                    summaries.append(try await get("/api/v1/dashboard/summary").seconds)
                }
                let paintStart = ContinuousClock.now
                for path in ["/", "/dashboard/common.css", "/dashboard/common.js", "/dashboard/master.js", "/api/v1/dashboard/summary", page] {
                    _ = try await get(path)
                }
                let firstPaint = (ContinuousClock.now - paintStart).seconds
                let state = try await get("/state")
                pages.sort()
                filtered.sort()
                summaries.sort()
                let report = Report(
                    tasks: tasks, agents: agents, fillSeconds: fillSeconds, firstPageSeconds: first.seconds,
                    pageMedianSeconds: pages[pages.count / 2], pageMaxSeconds: pages.last ?? 0,
                    filteredMedianSeconds: filtered[filtered.count / 2], summaryMedianSeconds: summaries[summaries.count / 2],
                    firstPaintSeconds: firstPaint, pageBytes: first.bytes, stateSeconds: state.seconds, stateBytes: state.bytes)
                await group.triggerGracefulShutdown()
                try await tasksGroup.waitForAll()
                return report
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
        }
    }
}
