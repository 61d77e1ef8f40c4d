import CapstanCore
import Logging

/// Health-checks one running task: waits `delay`, then probes every `interval` (each probe bounded by `timeout`),
/// feeds the results to a ``HealthPolicy`` and hands each decision to `report`. It ends when stopped, when
/// `report` answers that the task is gone, or right after the decision to kill the task.
actor TaskHealthChecker {
    /// Runs one probe, bounded by the given timeout.
    typealias Probe = @Sendable (Duration) async -> HealthProbeResult
    /// Carries a decision out (with the probe's message); answers `false` once the task is no longer running.
    typealias Report = @Sendable (HealthPolicy.Decision, String) async -> Bool

    /// The shortest pause between probes, whatever `interval_seconds` says, so a zero interval cannot spin.
    static let minimumInterval: Duration = .milliseconds(50)

    private var policy: HealthPolicy
    private let probe: Probe
    private let report: Report
    private let logger: Logger
    private let started = ContinuousClock.now
    private var loop: Task<Void, Never>?
    private var stopped = false
    /// Whether this checker decided to kill the task (its terminal update then carries `healthy: false`).
    private(set) var killedTask = false

    init(settings: HealthPolicy.Settings, probe: @escaping Probe, report: @escaping Report, logger: Logger) {
        self.policy = HealthPolicy(settings)
        self.probe = probe
        self.report = report
        self.logger = logger
    }

    /// Starts checking (once).
    func start() {
        guard loop == nil, !stopped else { return }
        logger.info(
            "Health checks start",
            metadata: [
                "delay": "\(policy.settings.delay)", "interval": "\(policy.settings.interval)",
                "grace_period": "\(policy.settings.gracePeriod)", "consecutive_failures": "\(policy.settings.consecutiveFailures)",
            ])
        loop = Task { await self.run() }
    }

    /// Stops checking: a probe in flight is cancelled (its process killed, its socket closed). Answers whether the
    /// checker had decided to kill the task.
    @discardableResult
    func stop() -> Bool {
        stopped = true
        loop?.cancel()
        loop = nil
        return killedTask
    }

    private func run() async {
        guard await pause(policy.settings.delay) else { return }
        while !stopped {
            let result = await probe(policy.settings.timeout)
            if stopped || Task.isCancelled { return }
            let decision = policy.record(healthy: result.healthy, sinceLaunch: ContinuousClock.now - started)
            if result.healthy {
                logger.debug("Health check passed", metadata: ["result": "\(result.message)"])
            } else {
                logger.warning(
                    "Health check failed",
                    metadata: ["result": "\(result.message)", "consecutive_failures": "\(policy.consecutiveFailures)"])
            }
            if decision == .reportUnhealthyAndKill { killedTask = true }
            guard await report(decision, result.message), decision != .reportUnhealthyAndKill else { break }
            guard await pause(max(policy.settings.interval, Self.minimumInterval)) else { return }
        }
        loop = nil
    }

    /// Sleeps; `false` when cancelled or stopped meanwhile.
    private func pause(_ duration: Duration) async -> Bool {
        do { try await Task.sleep(for: duration) } catch { return false }
        return !stopped
    }
}
