import ArgumentParser
import CapstanCore
import Foundation

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run Capstan's benchmarks.", subcommands: [BenchAllocator.self, BenchContainer.self, BenchDashboard.self, BenchDiff.self, BenchDisk.self, BenchGitOps.self, BenchMasterLoad.self, BenchNetwork.self, BenchPlan.self, BenchPull.self])
}

struct BenchAllocator: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allocator",
        abstract: "Time DRF allocation cycles over simulated agents and frameworks (pure, one core).")

    @Option(help: "Simulated agents.") var agents: Int = 10_000
    @Option(help: "Simulated frameworks.") var frameworks: Int = 100
    @Option(help: "Allocation cycles to run.") var cycles: Int = 20

    func run() {
        var benchmark = AllocatorBenchmark(agents: agents, frameworks: frameworks)
        let origin = ContinuousClock.now
        let result = benchmark.run(cycles: cycles) { (ContinuousClock.now - origin).seconds }
        print(result.summary)
        print("Nomad C1M reference: 3,750 placements/s; ratio \(String(format: "%.1f", result.placementsPerSecond / 3750))x")
    }
}
