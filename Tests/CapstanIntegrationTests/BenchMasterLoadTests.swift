import CapstanTestSupport
import Foundation
import Glibc
import Testing

extension EndToEnd {
    /// `capstan bench master-load` through the built binary, with tiny settings: what it reports, not how fast.
    @Suite("capstan bench master-load")
    struct BenchMasterLoadTests {
        typealias Run = DiffCommandTests.Run

        @Test("a tiny run reports well-formed JSON: every request answered, every subscriber connected, latencies and RSS measured")
        func tinyRunReportsJSON() async throws {
            let run = try await DiffCommandTests.run([
                CapstanBinary.path, "bench", "master-load", "--subscribers", "5", "--rate", "50", "--duration", "2s",
                "--heartbeat-interval", "500ms", "--output", "json",
            ])
            #expect(run.status == 0, "\(run.stderr)")
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "not a JSON object: \(run.stdout)")
            let requests = try #require(report["requests"] as? [String: Any])
            #expect(requests["due"] as? Int == 100)
            #expect(requests["sent"] as? Int == 100)
            #expect(requests["succeeded"] as? Int == 100)
            #expect(requests["errors"] as? Int == 0, "\(requests["errorSamples"] ?? "")")
            #expect((requests["achievedRate"] as? Double ?? 0) > 40)
            let latency = try #require(requests["latency"] as? [String: Any])
            #expect(latency["count"] as? Int == 100)
            let (p50, p99, max) = (latency["p50Ms"] as? Double ?? 0, latency["p99Ms"] as? Double ?? 0, latency["maxMs"] as? Double ?? 0)
            #expect(p50 > 0 && p50 <= p99 && p99 <= max, "\(latency)")
            // Every call of the mix was sent and timed.
            let byCall = try #require(requests["latencyByCall"] as? [String: Any])
            #expect(Set(byCall.keys) == ["GET_TASKS", "GET_FRAMEWORKS", "GET_AGENTS", "GET_HEALTH", "GET_STATE", "GET_METRICS", "GET_MASTER", "GET_VERSION", "GET_ROLES"])

            let subscribers = try #require(report["subscribers"] as? [String: Any])
            #expect(subscribers["requested"] as? Int == 5)
            #expect(subscribers["subscribed"] as? Int == 5)
            #expect(subscribers["connectedAtEnd"] as? Int == 5)
            #expect(subscribers["dropped"] as? Int == 0)
            #expect(subscribers["failedToSubscribe"] as? Int == 0)
            // 5 streams with a HEARTBEAT every 0.5 s over at least 2 s.
            #expect((subscribers["heartbeats"] as? Int ?? 0) >= 10, "\(subscribers)")
            #expect(((subscribers["subscribeLatency"] as? [String: Any])?["p50Ms"] as? Double ?? 0) > 0)

            let master = try #require(report["master"] as? [String: Any])
            for key in ["rssKiBIdle", "rssKiBSubscribed", "rssKiBPeak", "rssKiBAfter", "vmHWMKiB"] {
                #expect((master[key] as? Int ?? 0) > 1024, "\(key): \(master)")
            }
            #expect((master["cpuSecondsTotal"] as? Double ?? 0) > 0)
            #expect(master["exitStatus"] as? Int == 0, "the master stopped on SIGTERM")
            let pid = try #require(master["pid"] as? Int32)
            #expect(kill(pid, 0) != 0, "the master (pid \(pid)) still runs")
            let settings = try #require(report["settings"] as? [String: Any])
            #expect(settings["rate"] as? Int == 50 && settings["subscribers"] as? Int == 5)
        }

        @Test("with too few file descriptors it refuses to start, naming RLIMIT_NOFILE, what it needs, and how to lower it")
        func refusesTooLowFileLimit() async throws {
            let run = try await DiffCommandTests.run([
                "/usr/bin/prlimit", "--nofile=100:100", CapstanBinary.path, "bench", "master-load", "--subscribers", "200", "--duration", "1s",
            ])
            #expect(run.status != 0)
            #expect(run.stderr.contains("RLIMIT_NOFILE is 100 (hard limit 100)"), "\(run.stderr)")
            #expect(run.stderr.contains("need about 360 file descriptors"), "\(run.stderr)")
            #expect(run.stderr.contains("--subscribers"), "\(run.stderr)")
            #expect(run.stdout.isEmpty)
        }

        @Test("SIGTERM to the benchmark kills its master and exits 130")
        func signalStopsTheMaster() async throws {
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-bench-load-test-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let bench = try CapstanProcess(
                arguments: ["bench", "master-load", "--subscribers", "2", "--rate", "10", "--duration", "120s", "--scratch", scratch],
                logPath: scratch + ".log")
            defer {
                bench.crash()
                try? FileManager.default.removeItem(atPath: scratch + ".log")
            }
            // The master listens (its listen file is written), then a second for the subscribers and the load to begin.
            let deadline = ContinuousClock.now + .seconds(60)
            while !FileManager.default.fileExists(atPath: scratch + "/master.listen") && ContinuousClock.now < deadline {
                #expect(bench.isRunning, "\(bench.log)")
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Task.sleep(for: .seconds(1))
            await bench.stop(signal: SIGTERM, timeout: .seconds(20))
            #expect(bench.process.terminationStatus == 130, "\(bench.log)")
            let pidText = try #require(bench.log.firstMatch(of: /master \(pid (\d+)\) killed/)?.output.1, "\(bench.log)")
            let pid = try #require(Int32(pidText))
            #expect(kill(pid, 0) != 0, "the master (pid \(pid)) outlived the benchmark")
        }
    }
}
