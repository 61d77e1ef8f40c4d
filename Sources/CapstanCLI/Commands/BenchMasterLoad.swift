import ArgumentParser
import AsyncHTTPClient
import CapstanCore
import Foundation
import Glibc
import NIOCore
import UnixSignals

/// `capstan bench master-load`: one master under many scheduler subscribers and an open-loop operator client.
struct BenchMasterLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "master-load",
        abstract: "Load one master (a child `capstan master` on 127.0.0.1) with N scheduler subscribers and an operator client at R requests/s.",
        discussion: """
            Starts this binary's `capstan master` on an ephemeral port of 127.0.0.1 with a temporary work directory \
            (SQLite registry, no agents), opens --subscribers v1 scheduler SUBSCRIBE streams at once (each a \
            framework whose RecordIO stream stays open and whose events are counted; a stream that ends early counts \
            as dropped), then POSTs operator read calls to /api/v1 (GET_TASKS, GET_FRAMEWORKS, GET_AGENTS, \
            GET_HEALTH, GET_STATE, GET_METRICS, GET_MASTER, GET_VERSION, GET_ROLES) at --rate per second for \
            --duration, open loop: request i is due at start + i/rate whatever happened to the others, and its \
            latency counts from then, so a master that falls behind shows as latency rather than as a lower rate. At \
            most --max-in-flight requests are outstanding; one due while that many are is not sent and counts as an \
            error. Reports requests, the achieved rate, errors by kind (non-2xx, timeout, connection, not sent), \
            p50/p90/p99/max latency overall and per call, subscribers still connected and dropped, the master's RSS \
            (VmRSS) idle, with the subscribers, at peak and after the load, and its CPU time. The clients run in this \
            process, on the same machine: they share its cores with the master. Raises its RLIMIT_NOFILE soft limit \
            to the hard limit (the master inherits it) and refuses to start when that is still too low. The master \
            is stopped by its PID on every exit, SIGINT and SIGTERM included.
            """)

    @Option(help: "Scheduler subscribers (frameworks with an open SUBSCRIBE stream).") var subscribers: Int = 200
    @Option(help: "Operator requests per second.") var rate: Int = 1000
    @Option(help: "How long the operator client runs (e.g. 60s).") var duration: String = "60s"
    @Option(help: "HTTP connections the operator client keeps to the master.") var connections: Int = 32
    @Option(help: "Operator requests outstanding at most; one due while this many are is not sent (an error).")
    var maxInFlight: Int = 1000
    @Option(help: "Time one operator request may take once sent.") var requestTimeout: String = "5s"
    @Option(help: "Time one subscriber may take to get SUBSCRIBED.") var subscribeTimeout: String = "30s"
    @Option(help: "The master's --heartbeat-interval (HEARTBEAT events on every subscriber's stream).")
    var heartbeatInterval: String = "15secs"
    @Option(help: "The master's --log-level (its log is master.log in the scratch directory; see --keep).")
    var masterLogLevel: String = "info"
    @Option(help: "text, or json: {settings, requests, subscribers, master, machine}.")
    var output: ReconcilerOutputFormat = .text
    @Option(help: "Scratch directory (default: a new one under /tmp, removed afterwards).") var scratch: String?
    @Flag(help: "Keep the scratch directory, with the master's log (master.log), afterwards.") var keep = false

    func validate() throws {
        guard subscribers >= 0 else { throw ValidationError("--subscribers must be 0 or more") }
        guard rate > 0 else { throw ValidationError("--rate must be at least 1") }
        guard connections > 0 else { throw ValidationError("--connections must be at least 1") }
        guard maxInFlight > 0 else { throw ValidationError("--max-in-flight must be at least 1") }
        guard try FlagParsing.duration(duration, flag: "--duration") > .zero else { throw ValidationError("--duration must be more than 0") }
        _ = try FlagParsing.duration(requestTimeout, flag: "--request-timeout")
        _ = try FlagParsing.duration(subscribeTimeout, flag: "--subscribe-timeout")
        _ = try FlagParsing.duration(heartbeatInterval, flag: "--heartbeat-interval")
    }

    /// The master's `--max-connections-per-peer`: its default (256), or enough for every client here (all of them
    /// are 127.0.0.1) and a few more.
    var masterConnectionCap: Int { max(256, subscribers + connections + 16) }

    func run() async throws {
        let fdLimit = FileDescriptorLimit.raiseToHard()
        // Each side holds one descriptor per connection, plus its own files, sockets and SQLite.
        let needed = subscribers + connections + 128
        guard fdLimit.soft >= UInt64(needed) else {
            throw CapstanError(
                .failedPrecondition,
                "capstan bench master-load: RLIMIT_NOFILE is \(fdLimit.soft) (hard limit \(fdLimit.hard)), but \(subscribers) "
                    + "subscribers and \(connections) operator connections need about \(needed) file descriptors in this process and "
                    + "in the master: raise the hard limit (ulimit -Hn \(needed), or LimitNOFILE= in a systemd unit) or pass fewer --subscribers")
        }
        let scratch = self.scratch ?? "/tmp/capstan-bench-master-load-\(getpid())"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let loadBefore = Self.loadAverage()
        // Trapped before the master starts, so that a SIGINT or SIGTERM to the benchmark always takes it along.
        let trapped = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let master = try BenchMasterProcess(
            executable: BenchGitOps.executablePath(), scratch: scratch,
            extraArguments: [
                "--heartbeat-interval", heartbeatInterval, "--max-connections-per-peer", "\(masterConnectionCap)",
                "--log-level", masterLogLevel,
            ])
        let removeScratch = !keep && self.scratch == nil
        let signals = Task {
            for await _ in trapped {
                master.killNow()
                if removeScratch { try? FileManager.default.removeItem(atPath: scratch) }
                FileHandle.standardError.write(Data("capstan bench master-load: interrupted; master (pid \(master.pid)) killed\n".utf8))
                Foundation.exit(130)
            }
        }
        defer { signals.cancel() }
        let report: MasterLoadReport
        do {
            report = try await measure(master, fdLimit: fdLimit, loadBefore: loadBefore)
        } catch {
            await master.stop()
            let tail = master.logTail
            if removeScratch { try? FileManager.default.removeItem(atPath: scratch) }
            throw CapstanError(.internal, "capstan bench master-load failed: \(error)\n--- capstan master (last 3000 chars)\n\(tail)")
        }
        if !removeScratch {
            FileHandle.standardError.write(Data("scratch directory kept: \(scratch) (the master's log: \(master.logPath))\n".utf8))
        } else {
            try? FileManager.default.removeItem(atPath: scratch)
        }
        try output.write(report) { report.text }
    }

    /// Starts the load on a listening master, stops the master, and returns the report.
    private func measure(_ master: BenchMasterProcess, fdLimit: FileDescriptorLimit, loadBefore: Double) async throws -> MasterLoadReport {
        let duration = try FlagParsing.duration(self.duration, flag: "--duration")
        let requestTimeout = try FlagParsing.duration(self.requestTimeout, flag: "--request-timeout")
        let subscribeTimeout = try FlagParsing.duration(self.subscribeTimeout, flag: "--subscribe-timeout")
        try await master.waitUntilListening(timeout: .seconds(60))
        let idle = try ProcessSample.read(pid: master.pid)

        var subscriberConfiguration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        subscriberConfiguration.timeout = .init(connect: .seconds(10), read: nil)
        subscriberConfiguration.connectionPool = .init(idleTimeout: .seconds(600), concurrentHTTP1ConnectionsPerHostSoftLimit: subscribers + 8)
        let subscriberClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: subscriberConfiguration)
        var operatorConfiguration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        operatorConfiguration.timeout = .init(connect: .seconds(5), read: .nanoseconds(Int64(requestTimeout.seconds * 1e9)))
        operatorConfiguration.connectionPool = .init(idleTimeout: .seconds(600), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        let operatorClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: operatorConfiguration)
        let pool = SchedulerSubscriberPool()

        // The clients and the master go away on every path; a failure is thrown only after that.
        let phase: Result<LoadPhase, any Error>
        do {
            phase = .success(try await drive(master, pool: pool, subscriberClient: subscriberClient, operatorClient: operatorClient,
                duration: duration, requestTimeout: requestTimeout, subscribeTimeout: subscribeTimeout))
        } catch {
            phase = .failure(error)
        }
        await pool.close()
        try? await subscriberClient.shutdown()
        try? await operatorClient.shutdown()
        let exitStatus = await master.stop()
        let measured = try phase.get()
        let (subscribed, after) = (measured.subscribed, measured.after)

        let counts = pool.counts
        let load = measured.load
        let loadSeconds = load.elapsedSeconds
        return MasterLoadReport(
            settings: .init(
                subscribers: subscribers, rate: rate, durationSeconds: duration.seconds, connections: connections,
                maxInFlight: maxInFlight, requestTimeoutSeconds: requestTimeout.seconds,
                heartbeatIntervalSeconds: try FlagParsing.duration(heartbeatInterval, flag: "--heartbeat-interval").seconds,
                masterMaxConnectionsPerPeer: masterConnectionCap),
            requests: .init(
                due: load.due, sent: load.sent, succeeded: load.succeeded, errors: load.errorCount,
                errorsByKind: load.errors, errorSamples: load.errorSamples,
                achievedRate: Double(load.sent) / load.sendSeconds, peakInFlight: load.peakInFlight,
                latency: .init(seconds: load.latencies), latencyByCall: load.latenciesByCall.mapValues { .init(seconds: $0) }),
            subscribers: .init(
                requested: subscribers, subscribed: counts.subscribed, failedToSubscribe: counts.failedCount,
                failuresByKind: counts.failed, failureSamples: counts.failureSamples, dropped: counts.droppedCount,
                dropReasons: counts.dropped, connectedAtEnd: measured.connectedAtEnd, heartbeats: counts.heartbeats,
                otherEvents: counts.otherEvents, subscribeLatency: .init(seconds: counts.subscribeSeconds)),
            master: .init(
                pid: master.pid, rssKiBIdle: idle.rssKiB, rssKiBSubscribed: subscribed.rssKiB, rssKiBPeak: measured.peakRSSKiB,
                rssKiBAfter: after.rssKiB, vmHWMKiB: after.peakRSSKiB,
                cpuSecondsSubscribing: subscribed.cpuSeconds - idle.cpuSeconds,
                cpuSecondsLoad: after.cpuSeconds - subscribed.cpuSeconds, cpuSecondsTotal: after.cpuSeconds,
                coresBusyDuringLoad: loadSeconds > 0 ? (after.cpuSeconds - subscribed.cpuSeconds) / loadSeconds : 0,
                exitStatus: exitStatus),
            machine: .init(
                cpus: ProcessInfo.processInfo.activeProcessorCount, loadAverageBefore: loadBefore,
                loadAverageAfter: Self.loadAverage(), fileDescriptorLimit: fdLimit, clientCPUSecondsLoad: measured.clientCPUSeconds))
    }

    /// What the subscribe and load phases measured.
    private struct LoadPhase {
        var load: OperatorLoadResult
        /// The master once every subscriber was subscribed, and right after the load.
        var subscribed: ProcessSample
        var after: ProcessSample
        /// The highest VmRSS sampled during the load.
        var peakRSSKiB: Int
        var clientCPUSeconds: Double
        var connectedAtEnd: Int
    }

    /// Opens the subscribers, runs the operator load while sampling the master's RSS, and leaves the clean-up to the
    /// caller.
    private func drive(
        _ master: BenchMasterProcess, pool: SchedulerSubscriberPool, subscriberClient: HTTPClient, operatorClient: HTTPClient,
        duration: Duration, requestTimeout: Duration, subscribeTimeout: Duration
    ) async throws -> LoadPhase {
        await pool.open(count: subscribers, master: master.address, client: subscriberClient, timeout: subscribeTimeout)
        let subscribed = try ProcessSample.read(pid: master.pid)
        let clientCPUBefore = ProcessSample.ownCPUSeconds()
        let pid = master.pid
        let sampler = Task { () -> Int in
            var peak = 0
            while !Task.isCancelled {
                if let sample = try? ProcessSample.read(pid: pid) { peak = max(peak, sample.rssKiB) }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return peak
        }
        let load = OperatorLoad(
            url: master.address.url + "/api/v1", client: operatorClient, rate: rate, duration: duration,
            maxInFlight: maxInFlight, timeout: requestTimeout)
        let measured: OperatorLoadResult
        do { measured = try await load.run() } catch {
            sampler.cancel()
            throw error
        }
        sampler.cancel()
        let after = try ProcessSample.read(pid: pid)
        let counts = pool.counts
        return LoadPhase(
            load: measured, subscribed: subscribed, after: after, peakRSSKiB: max(await sampler.value, after.rssKiB),
            clientCPUSeconds: ProcessSample.ownCPUSeconds() - clientCPUBefore,
            connectedAtEnd: counts.subscribed - counts.droppedCount)
    }

    /// The 1-minute load average of /proc/loadavg (0 when unreadable).
    static func loadAverage() -> Double {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").first.flatMap { Double($0) } ?? 0
    }
}
