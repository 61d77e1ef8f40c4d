import Foundation

/// What `capstan bench master-load` measured; `--output json` prints it as is, the text form summarises it.
struct MasterLoadReport: Codable, Sendable {
    /// p50/p90/p99 (nearest rank), max and mean, in milliseconds.
    struct Latency: Codable, Sendable {
        var count: Int
        var p50Ms: Double, p90Ms: Double, p99Ms: Double, maxMs: Double, meanMs: Double

        init(seconds samples: [Double]) {
            let summary = LatencySummary(samples)
            count = samples.count
            (p50Ms, p90Ms, p99Ms, maxMs) = (summary.p50 * 1000, summary.p90 * 1000, summary.p99 * 1000, summary.max * 1000)
            meanMs = samples.isEmpty ? 0 : samples.reduce(0, +) / Double(samples.count) * 1000
        }

        var line: String { String(format: "p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms", p50Ms, p90Ms, p99Ms, maxMs) }
    }

    struct Settings: Codable, Sendable {
        var subscribers: Int
        var rate: Int
        var durationSeconds: Double
        var connections: Int
        var maxInFlight: Int
        var requestTimeoutSeconds: Double
        var heartbeatIntervalSeconds: Double
        /// The master's `--max-connections-per-peer` (every client here is 127.0.0.1).
        var masterMaxConnectionsPerPeer: Int
    }

    struct Requests: Codable, Sendable {
        var due: Int
        var sent: Int
        var succeeded: Int
        var errors: Int
        var errorsByKind: [String: Int]
        var errorSamples: [String: String]
        /// Requests sent per second over the time they were due.
        var achievedRate: Double
        var peakInFlight: Int
        var latency: Latency
        var latencyByCall: [String: Latency]
    }

    struct Subscribers: Codable, Sendable {
        var requested: Int
        var subscribed: Int
        var failedToSubscribe: Int
        var failuresByKind: [String: Int]
        var failureSamples: [String: String]
        var dropped: Int
        var dropReasons: [String: Int]
        /// Subscribed and still open when the load ended.
        var connectedAtEnd: Int
        var heartbeats: Int
        var otherEvents: Int
        var subscribeLatency: Latency
    }

    struct Master: Codable, Sendable {
        var pid: Int32
        /// VmRSS when listening, once every subscriber was subscribed, the highest sampled (every 100 ms) during
        /// the load, and right after it; VmHWM at the end.
        var rssKiBIdle: Int
        var rssKiBSubscribed: Int
        var rssKiBPeak: Int
        var rssKiBAfter: Int
        var vmHWMKiB: Int
        /// CPU time while the subscribers subscribed, during the load, and in all up to the end of the load.
        var cpuSecondsSubscribing: Double
        var cpuSecondsLoad: Double
        var cpuSecondsTotal: Double
        /// CPU time during the load over its wall time (1.0 = one core busy).
        var coresBusyDuringLoad: Double
        var exitStatus: Int32
    }

    struct Machine: Codable, Sendable {
        var cpus: Int
        /// /proc/loadavg's 1-minute figure before the benchmark and after the load.
        var loadAverageBefore: Double
        var loadAverageAfter: Double
        var fileDescriptorLimit: FileDescriptorLimit
        /// This process's (the clients') CPU time during the load.
        var clientCPUSecondsLoad: Double
    }

    var settings: Settings
    var requests: Requests
    var subscribers: Subscribers
    var master: Master
    var machine: Machine

    var text: String {
        var lines: [String] = []
        let r = requests, s = subscribers, m = master
        lines.append(String(
            format: "operator client: %d requests due over %.1f s at %d/s, %d sent (%.1f/s achieved), %d succeeded, %d errors",
            r.due, settings.durationSeconds, settings.rate, r.sent, r.achievedRate, r.succeeded, r.errors))
        for (kind, count) in r.errorsByKind.sorted(by: { $0.key < $1.key }) {
            lines.append("  error \(kind): \(count) (e.g. \(r.errorSamples[kind] ?? "-"))")
        }
        lines.append("  latency (from when due): \(r.latency.line)  (peak \(r.peakInFlight) in flight)")
        for (call, latency) in r.latencyByCall.sorted(by: { $0.key < $1.key }) {
            lines.append("    \(call.padding(toLength: 14, withPad: " ", startingAt: 0)) \(latency.line)  (\(latency.count))")
        }
        lines.append(
            "scheduler subscribers: \(s.subscribed)/\(s.requested) subscribed, \(s.connectedAtEnd) still connected at the end, "
                + "\(s.dropped) dropped, \(s.failedToSubscribe) failed to subscribe; \(s.heartbeats) heartbeats, \(s.otherEvents) other events")
        for (kind, count) in s.failuresByKind.sorted(by: { $0.key < $1.key }) {
            lines.append("  subscribe failed (\(kind)): \(count) (e.g. \(s.failureSamples[kind] ?? "-"))")
        }
        for (reason, count) in s.dropReasons.sorted(by: { $0.key < $1.key }) { lines.append("  dropped: \(reason): \(count)") }
        lines.append("  SUBSCRIBE → SUBSCRIBED: \(s.subscribeLatency.line)")
        func mib(_ kib: Int) -> String { String(format: "%.1f MiB", Double(kib) / 1024) }
        lines.append(
            "master (pid \(m.pid)) RSS: idle \(mib(m.rssKiBIdle)), with subscribers \(mib(m.rssKiBSubscribed)), "
                + "peak during load \(mib(m.rssKiBPeak)), after \(mib(m.rssKiBAfter)) (VmHWM \(mib(m.vmHWMKiB)))")
        lines.append(String(
            format: "master CPU: %.2f s subscribing, %.2f s during the load (%.2f cores busy), %.2f s in all; exit status %d",
            m.cpuSecondsSubscribing, m.cpuSecondsLoad, m.coresBusyDuringLoad, m.cpuSecondsTotal, m.exitStatus))
        lines.append(String(
            format: "machine: %d CPUs, load average %.2f before, %.2f after; clients' CPU during the load %.2f s; RLIMIT_NOFILE %llu (hard %llu)",
            machine.cpus, machine.loadAverageBefore, machine.loadAverageAfter, machine.clientCPUSecondsLoad,
            machine.fileDescriptorLimit.soft, machine.fileDescriptorLimit.hard))
        return lines.joined(separator: "\n")
    }
}
