import ArgumentParser
import CapstanMaster
import Foundation
import Logging

/// `capstan bench dashboard`: how fast the master dashboard's first page comes with many tasks.
struct BenchDashboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Time the master dashboard's first task page against a master holding N tasks (HTTP on 127.0.0.1).",
        discussion: """
            Fills a master in this process through its own scheduler path (agents register, a framework accepts \
            offers with LAUNCH operations, status updates make the tasks TASK_RUNNING; no agent processes run), \
            serves its HTTP API on an ephemeral port of 127.0.0.1, and times the dashboard's requests: the first \
            page of tasks cold and warm, a filtered page, the summary, and everything a browser fetches before the \
            first page shows. The whole /state document is timed for comparison. Goal: first page under 1 s at \
            10,000 tasks.
            """)

    @Option(help: "Tasks in the master.") var tasks: Int = 10_000
    @Option(help: "Agents the tasks are spread over.") var agents: Int = 100
    @Option(help: "Requests per timed endpoint.") var samples: Int = 20

    func run() async throws {
        guard tasks > 0, agents > 0, samples > 0 else { throw ValidationError("--tasks, --agents and --samples must be positive") }
        var logger = Logger(label: "capstan.bench.dashboard")
        logger.logLevel = .error
        let report = try await DashboardBenchmark.run(tasks: tasks, agents: agents, samples: samples, logger: logger)
        print(report.text)
    }
}
