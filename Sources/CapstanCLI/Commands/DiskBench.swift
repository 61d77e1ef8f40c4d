import ArgumentParser
import CapstanContainerizer
import CapstanCore
import CapstanLinux
import Foundation
import Glibc

/// `capstan bench disk`: one measurement of a sandbox of many small files, the `disk/du` isolator's against running
/// `du -s` on it (what Mesos' disk/du does every interval).
struct BenchDisk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disk",
        abstract: "Time one disk usage measurement of a sandbox of 100,000 small files: the disk/du isolator's vs running du -s.",
        discussion: """
            Builds a sandbox of --files small files (1 byte to 8 KiB, 100 per directory, with a few hard links) and \
            measures it --runs times each, alternating which goes first: Capstan's measurement as the disk/du isolator \
            takes it (queued to its measuring thread at the idle I/O class and nice 19, a native openat/fstatat walk \
            counting st_blocks like du -s -x) and `du -s` spawned on the same tree and waited for, as Mesos' disk/du \
            runs it. The page cache is warm for both (one unmeasured run of each first). Checks both count the same \
            KiB. Also times the same walk at normal priority, to tell the walk's cost from the cost of yielding to \
            others. CPU is the walking thread's own CPU time, and du's from wait4's rusage. The ratios are Capstan's \
            over du's.
            """)

    @Option(help: "Files in the sandbox.") var files: Int = 100_000
    @Option(help: "Measurements of each.") var runs: Int = 20
    @Option(help: "Where the sandbox is built (removed at the end).") var scratch: String = "/var/tmp"
    @Option(help: "The du executable.") var du: String = "/usr/bin/du"

    func run() async throws {
        guard files > 0, runs > 0 else { throw ValidationError("--files and --runs must be positive") }
        guard access(du, X_OK) == 0 else { throw ValidationError("no du at \(du)") }
        let root = "\(scratch)/capstan-bench-disk-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let sandbox = root + "/sandbox"
        let built = ContinuousClock.now
        try Self.buildTree(sandbox, files: files)
        print(String(format: "sandbox: %d files in %d directories (built in %.1f s)", files, (files + 99) / 100, (ContinuousClock.now - built).seconds))

        let measurer = DiskUsageMeasurer()
        let unthrottled = DiskUsageMeasurer(lowPriority: false)
        let output = root + "/du.out"
        // Wall and CPU seconds of each run, per contender.
        var capstan: [(wall: Double, cpu: Double)] = [], normal: [(wall: Double, cpu: Double)] = [], plain: [(wall: Double, cpu: Double)] = []
        var counted: (capstan: UInt64, du: UInt64) = (0, 0)
        for index in 0...runs {
            let timeCapstan = { (measurer: DiskUsageMeasurer) in
                let measured = try await measurer.measure([sandbox])
                counted.capstan = (measured.usage.bytes + 1023) / 1024
                return (measured.duration.seconds, measured.cpuTime.seconds)
            }
            let timeDu = {
                let usage = try ChildUsage.measure([du, "-s", "-k", sandbox], stdout: output, stderr: "/dev/null")
                guard usage.exitStatus == 0 else { throw CapstanError(.internal, "du -s exited with \(usage.exitStatus)") }
                let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
                counted.du = UInt64(text.split(separator: "\t").first ?? "") ?? 0
                return (usage.seconds, usage.cpuSeconds)
            }
            // Alternate which goes first, so neither always finds the caches as the other left them.
            let (a, b, c): ((Double, Double), (Double, Double), (Double, Double))
            if index % 2 == 0 {
                a = try await timeCapstan(measurer)
                b = try timeDu()
                c = try await timeCapstan(unthrottled)
            } else {
                b = try timeDu()
                c = try await timeCapstan(unthrottled)
                a = try await timeCapstan(measurer)
            }
            if index > 0 {  // the first run of each warms the page cache
                capstan.append(a)
                plain.append(b)
                normal.append(c)
            }
        }
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        func line(_ name: String, _ runs: [(wall: Double, cpu: Double)]) -> String {
            let wall = runs.map(\.wall), cpu = runs.map(\.cpu)
            return String(
                format: "%@ %d runs, wall mean %.1f ms, p50 %.1f ms, min %.1f ms; cpu mean %.1f ms, p50 %.1f ms",
                name, runs.count, mean(wall) * 1000, median(wall) * 1000, (wall.min() ?? 0) * 1000, mean(cpu) * 1000, median(cpu) * 1000)
        }
        let priority = measurer.threadPriority.map { "I/O class \($0.ioClass == 3 ? "idle" : "\($0.ioClass)"), nice \($0.nice)" } ?? "unknown"
        print(line("capstan disk/du (\(priority)):", capstan))
        print(line("capstan walk, normal priority:  ", normal))
        print(line("du -s (spawned, waited for):    ", plain))
        let (duWall, duCPU) = (plain.map(\.wall), plain.map(\.cpu))
        print(String(
            format: "ratio capstan disk/du / du -s: wall mean %.2f, p50 %.2f; cpu mean %.2f, p50 %.2f",
            mean(capstan.map(\.wall)) / mean(duWall), median(capstan.map(\.wall)) / median(duWall),
            mean(capstan.map(\.cpu)) / mean(duCPU), median(capstan.map(\.cpu)) / median(duCPU)))
        print(String(
            format: "ratio capstan walk (normal priority) / du -s: wall mean %.2f, p50 %.2f",
            mean(normal.map(\.wall)) / mean(duWall), median(normal.map(\.wall)) / median(duWall)))
        print("counted: capstan \(counted.capstan) KiB, du \(counted.du) KiB\(counted.capstan == counted.du ? " (same)" : " (DIFFERENT)")")
        if counted.capstan != counted.du { throw ExitCode(1) }
    }

    /// `files` files of 1 byte to 8 KiB, 100 per directory, every 1000th a hard link to the one before.
    static func buildTree(_ root: String, files: Int) throws {
        var generator = SystemRandomNumberGenerator()
        let payload = [UInt8](repeating: 0x78, count: 8192)
        for index in 0..<files {
            let directory = "\(root)/d\(index / 100)"
            if index % 100 == 0 { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            let path = "\(directory)/f\(index % 100)"
            if index % 1000 == 999 {
                guard link("\(directory)/f\(index % 100 - 1)", path) == 0 else { throw CapstanError.system("link '\(path)'", errno: errno) }
                continue
            }
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw CapstanError.system("open '\(path)'", errno: errno) }
            let size = Int.random(in: 1...payload.count, using: &generator)
            let written = payload.withUnsafeBytes { write(fd, $0.baseAddress, size) }
            close(fd)
            guard written == size else { throw CapstanError(.internal, "short write to '\(path)'") }
        }
    }
}
