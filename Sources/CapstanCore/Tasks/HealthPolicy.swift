/// How a task's health-check results turn into health reports and a kill, as Mesos' built-in executors decide.
///
/// Feed it every probe result with the time since the task was launched; it answers what to tell the framework:
/// - the first success, and the first success after one or more counted failures, report `healthy: true`;
/// - a failure while the grace period runs and the check has never succeeded is ignored;
/// - every other failure is counted and reports `healthy: false`; the one that brings the count of consecutive
///   failures to `consecutiveFailures` also asks for the task to be killed. After that it answers nothing.
///
/// Pure: no clock, no I/O. The agent's checker owns the timing (``Settings/delay``, ``Settings/interval``,
/// ``Settings/timeout``) and carries the decisions out.
public struct HealthPolicy: Sendable, Hashable {
    /// The timing and limits of one health check (Mesos' `HealthCheck` fields, defaults filled in).
    public struct Settings: Sendable, Hashable {
        /// Wait after launch before the first check (`delay_seconds`, default 15 s).
        public var delay: Duration
        /// Pause between the end of one check and the start of the next (`interval_seconds`, default 10 s).
        public var interval: Duration
        /// A check still running after this is aborted and counts as a failure (`timeout_seconds`, default 20 s).
        public var timeout: Duration
        /// Failures in a row (outside the grace period) that get the task killed (`consecutive_failures`, default 3).
        public var consecutiveFailures: Int
        /// Failures this long after launch are ignored until the first success (`grace_period_seconds`, default 10 s;
        /// it includes the delay).
        public var gracePeriod: Duration

        /// Mesos' defaults: delay 15 s, interval 10 s, timeout 20 s, 3 consecutive failures, grace period 10 s.
        public static let mesosDefaults = Settings(
            delay: .seconds(15), interval: .seconds(10), timeout: .seconds(20), consecutiveFailures: 3,
            gracePeriod: .seconds(10))

        public init(delay: Duration, interval: Duration, timeout: Duration, consecutiveFailures: Int, gracePeriod: Duration) {
            self.delay = delay
            self.interval = interval
            self.timeout = timeout
            self.consecutiveFailures = consecutiveFailures
            self.gracePeriod = gracePeriod
        }

        /// Settings from Mesos' optional fields (seconds; `nil` takes the default). Negative and non-finite numbers
        /// are treated as zero.
        public init(
            delaySeconds: Double?, intervalSeconds: Double?, timeoutSeconds: Double?, consecutiveFailures: UInt32?,
            gracePeriodSeconds: Double?
        ) {
            let defaults = Settings.mesosDefaults
            func duration(_ seconds: Double?, _ fallback: Duration) -> Duration {
                guard let seconds else { return fallback }
                guard seconds.isFinite, seconds > 0 else { return .zero }
                return .nanoseconds(Int64((seconds * 1e9).rounded()))
            }
            self.init(
                delay: duration(delaySeconds, defaults.delay), interval: duration(intervalSeconds, defaults.interval),
                timeout: duration(timeoutSeconds, defaults.timeout),
                consecutiveFailures: consecutiveFailures.map(Int.init) ?? defaults.consecutiveFailures,
                gracePeriod: duration(gracePeriodSeconds, defaults.gracePeriod))
        }
    }

    /// What to do after one result.
    public enum Decision: Sendable, Hashable {
        /// Nothing to report (a repeated success, a failure in the grace period, or anything after the kill).
        case none
        /// Report the task's health (a TASK_RUNNING update with `healthy` set).
        case report(healthy: Bool)
        /// Report `healthy: false` and kill the task: `consecutiveFailures` failures in a row.
        case reportUnhealthyAndKill
    }

    public let settings: Settings
    /// Whether a check has ever succeeded (the grace period no longer applies once one has).
    public private(set) var hasSucceeded = false
    /// Counted failures since the last success.
    public private(set) var consecutiveFailures = 0
    /// Set once the policy asked for the kill; every later result is ignored.
    public private(set) var killRequested = false

    public init(_ settings: Settings) {
        self.settings = settings
    }

    /// Records one result, `sinceLaunch` after the checker started (the task's launch), and says what to do.
    public mutating func record(healthy: Bool, sinceLaunch: Duration) -> Decision {
        if killRequested { return .none }
        if healthy {
            let report = !hasSucceeded || consecutiveFailures > 0
            hasSucceeded = true
            consecutiveFailures = 0
            return report ? .report(healthy: true) : .none
        }
        if !hasSucceeded && sinceLaunch <= settings.gracePeriod { return .none }
        consecutiveFailures += 1
        if consecutiveFailures >= settings.consecutiveFailures {
            killRequested = true
            return .reportUnhealthyAndKill
        }
        return .report(healthy: false)
    }
}
