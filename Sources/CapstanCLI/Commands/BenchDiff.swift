import ArgumentParser
import CapstanCore
import Foundation

/// `capstan bench diff`: `capstan diff` between two commits of a large repository, end to end, as a user runs it.
struct BenchDiff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Time `capstan diff` between two commits of a repository of N apps, M of them changed (wall time and peak RSS).",
        discussion: """
            Makes a git repository with the git CLI: --apps app manifests under Manifests/apps/ (tag base), then a \
            commit changing the env of every (apps/changed)-th one. Then runs this binary's `capstan diff --against \
            base` as a child process --iterations times (after one untimed run) and reports each run's wall time and \
            peak resident set size (wait4's ru_maxrss): the repository read in place (as in a CI checkout), both \
            commits' trees listed, each distinct blob read and parsed once (in parallel), plan and render. Goal: under \
            1 s and 200 MiB for 10,000 apps with 1,000 changed, in a release build. Then the same through a file:// \
            URL, which fetches every object into a temporary cache first (as for a remote repository).
            """)

    @Option(help: "App manifests in the repository.") var apps: Int = 10_000
    @Option(help: "Apps the second commit changes.") var changed: Int = 1_000
    @Option(help: "Timed runs of capstan diff.") var iterations: Int = 5
    @Option(help: "Scratch directory (default: a new one under /tmp, removed afterwards).") var scratch: String?

    func validate() throws {
        guard apps > 0 else { throw ValidationError("--apps must be at least 1") }
        guard (1...apps).contains(changed) else { throw ValidationError("--changed must be between 1 and --apps") }
        guard iterations > 0 else { throw ValidationError("--iterations must be at least 1") }
    }

    func run() throws {
        guard BenchPull.which("git") != nil else { throw ValidationError("capstan bench diff needs git on PATH (apt-get install git)") }
        let scratch = self.scratch ?? "/tmp/capstan-bench-diff-\(getpid())"
        let repo = scratch + "/repo"
        defer { if self.scratch == nil { try? FileManager.default.removeItem(atPath: scratch) } }
        let origin = ContinuousClock.now
        try Self.makeRepository(repo, apps: apps, changed: changed)
        print(String(format: "repository: %d apps, %d changed in the second commit (made in %.1f s)", apps, changed, (ContinuousClock.now - origin).seconds))

        for (label, source) in [("capstan diff", repo), ("capstan diff --repo file://…", "file://" + repo)] {
            let arguments = [BenchGitOps.executablePath(), "diff", "--repo", source, "--against", "base", "--no-color"]
            var runs: [ChildUsage] = []
            for iteration in 0...iterations {
                let run = try ChildUsage.measure(arguments, stdout: scratch + "/diff.out", stderr: scratch + "/diff.err")
                guard run.exitStatus == 2 else {
                    let stderr = (try? String(contentsOfFile: scratch + "/diff.err", encoding: .utf8)) ?? ""
                    throw CapstanError(.internal, "capstan diff exited \(run.exitStatus) (2 expected: changes): \(stderr.suffix(2000))")
                }
                if iteration > 0 {
                    runs.append(run)
                    print(String(format: "%@ run %d: %.3f s, peak RSS %.1f MiB", label, iteration, run.seconds, run.maxRSSMiB))
                }
            }
            let output = (try? String(contentsOfFile: scratch + "/diff.out", encoding: .utf8)) ?? ""
            let summary = output.split(separator: "\n").last { $0.hasPrefix("Plan: ") } ?? "no summary line"
            let wall = CycleStatistics(samples: runs.map(\.seconds))
            print("\(label): \(summary)")
            print(String(
                format: "%@ (%d runs): wall p50 %.3f s, mean %.3f s, max %.3f s; peak RSS max %.1f MiB",
                label, runs.count, wall.p50, wall.mean, wall.max, runs.map(\.maxRSSMiB).max() ?? 0))
        }
    }

    /// One app manifest (the mix of ``PlanBenchmark``: an image, a port and a `hostname unique` constraint on every 10th).
    static func manifest(_ index: Int, version: Int) -> String {
        var text = """
            apiVersion: capstan/v1
            kind: App
            metadata:
              name: app-\(index)
              labels: {team: t\(index % 25)}
            spec:
              image: docker://registry.example/app-\(index % 100):1
              command: [/bin/server, --port, "8080"]
              env: {VERSION: "\(version)", SHARD: "\(index % 16)", LOG: info}
              resources: {cpus: 0.25, mem: 256Mi, disk: 64Mi}

            """
        if index % 10 == 3 {
            text += "  constraints: [{hostname: unique}]\n  network:\n    ports: [{name: http, container: 8080}]\n"
        }
        return text
    }

    /// The repository: every app at version 1 (tag `base`), then every (apps/changed)-th app at version 2.
    static func makeRepository(_ repo: String, apps: Int, changed: Int) throws {
        try? FileManager.default.removeItem(atPath: repo)
        try FileManager.default.createDirectory(atPath: repo + "/Manifests/apps", withIntermediateDirectories: true)
        func git(_ arguments: String...) throws {
            try BenchPull.run(["git", "-C", repo, "-c", "user.name=Capstan Bench", "-c", "user.email=bench@capstan.invalid"] + arguments)
        }
        func write(_ index: Int, version: Int) throws {
            let path = repo + String(format: "/Manifests/apps/app-%05d.yaml", index)
            try Data(manifest(index, version: version).utf8).write(to: URL(fileURLWithPath: path))
        }
        try git("init", "-q", "-b", "main")
        for index in 0..<apps { try write(index, version: 1) }
        try git("add", "-A")
        try git("commit", "-q", "-m", "\(apps) apps")
        try git("tag", "base")
        let step = apps / changed
        for index in stride(from: 0, to: step * changed, by: step) { try write(index, version: 2) }
        try git("commit", "-q", "-a", "-m", "change \(changed) apps")
    }
}
