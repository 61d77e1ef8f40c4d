extension RestartBackoff {
    /// The wait before relaunching after `failures` consecutive failures: `delay × factor^(failures-1)`, at most `max`;
    /// zero before the first failure.
    public func delay(afterFailures failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        let base = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
        let cap = Double(max.components.seconds) + Double(max.components.attoseconds) / 1e18
        var seconds = base
        for _ in 1..<failures {
            seconds *= factor
            if seconds >= cap { break }
        }
        return .milliseconds(Int64((Swift.min(seconds, cap) * 1000).rounded()))
    }
}
