/// How long Docker plugin calls are retried while the plugin cannot be reached (no socket yet, connection refused):
/// Docker's rule — exponential backoff from `firstDelay`, doubling up to `maxDelay`, for at most `window` in all.
/// A plugin that answered is never retried: the call may have taken effect.
public struct DockerPluginRetry: Sendable, Hashable {
    /// The longest time spent retrying one call (Docker: 30 s).
    public var window: Duration
    /// The wait after the first failed attempt (Docker: 1 s).
    public var firstDelay: Duration
    /// The longest wait between two attempts.
    public var maxDelay: Duration

    public init(window: Duration = .seconds(30), firstDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(8)) {
        self.window = window
        self.firstDelay = firstDelay
        self.maxDelay = maxDelay
    }

    /// Docker's window and backoff.
    public static let standard = DockerPluginRetry()

    /// The wait after failed attempt number `attempt` (0-based).
    public func delay(afterAttempt attempt: Int) -> Duration {
        var delay = firstDelay
        for _ in 0..<min(attempt, 32) where delay < maxDelay { delay *= 2 }
        return min(delay, maxDelay)
    }
}
