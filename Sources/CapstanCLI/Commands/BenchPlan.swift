import ArgumentParser
import CapstanCore
import Foundation

/// `capstan bench plan`: time the pure planner on a large simulated repository and cluster.
struct BenchPlan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Time planning N apps against N running tasks and M agents' free resources (pure, one core).",
        discussion: """
            Builds the inputs once (desired apps, running tasks with capstan labels, the manifests at the running \
            commit, agents), then times Planner.plan over several iterations and prints the peak resident set \
            size of the process (VmHWM). Goal: under 1 s and 200 MiB for 10,000 apps in a release build.
            """)

    @Option(help: "Desired apps (about as many running tasks).") var apps: Int = 10_000
    @Option(help: "Agents with free resources.") var agents: Int = 1_000
    @Option(help: "Planning iterations.") var iterations: Int = 5

    func run() {
        let origin = ContinuousClock.now
        let benchmark = PlanBenchmark(apps: apps, agents: agents)
        let built = (ContinuousClock.now - origin).seconds
        let result = benchmark.run(iterations: iterations) { (ContinuousClock.now - origin).seconds }
        print(result.text)
        print(String(format: "inputs built in %.3f s; peak RSS (VmHWM): %@", built, Self.peakRSS() ?? "unknown"))
    }

    /// `VmHWM` from /proc/self/status, as `123.4 MiB`.
    static func peakRSS() -> String? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kib = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return String(format: "%.1f MiB", kib / 1024)
        }
        return nil
    }
}
