/// Parses the duration form Mesos flags use (`15secs`, `500ms`, `2mins`, `1hrs`, `10s`, `1.5`); a bare number is seconds.
public enum DurationText {
    public static func parse(_ text: String) throws(CapstanError) -> Duration {
        let trimmed = text.trimmingWhitespace()
        var numberEnd = trimmed.startIndex
        while numberEnd < trimmed.endIndex, trimmed[numberEnd].isNumber || trimmed[numberEnd] == "." {
            numberEnd = trimmed.index(after: numberEnd)
        }
        guard let value = Double(trimmed[..<numberEnd]), value >= 0 else {
            throw CapstanError(.invalidArgument, "'\(text)' is not a duration: expected a number followed by a unit such as 15secs or 500ms")
        }
        let unit = trimmed[numberEnd...].lowercased()
        let seconds: Double
        switch unit {
        case "ns", "nanoseconds": seconds = value / 1e9
        case "us", "microseconds": seconds = value / 1e6
        case "ms", "msecs", "milliseconds": seconds = value / 1e3
        case "", "s", "sec", "secs", "seconds": seconds = value
        case "m", "min", "mins", "minutes": seconds = value * 60
        case "h", "hr", "hrs", "hours": seconds = value * 3600
        case "d", "day", "days": seconds = value * 86400
        default:
            throw CapstanError(.invalidArgument, "'\(text)' is not a duration: unknown unit '\(unit)' (use ns, us, ms, secs, mins, hrs or days)")
        }
        guard let duration = Duration.exactly(seconds: seconds) else {
            throw CapstanError(.invalidArgument, "'\(text)' is not a duration: longer than 292 years")
        }
        return duration
    }
}

extension Duration {
    /// The duration of `seconds` (rounded to the nanosecond), or nil when that is negative, not finite or more than
    /// `Int64.max` nanoseconds (292 years): converting such a Double to Int64 would trap.
    public static func exactly(seconds: Double) -> Duration? {
        let nanoseconds = (seconds * 1e9).rounded()
        guard nanoseconds.isFinite, nanoseconds >= 0, nanoseconds < 9_223_372_036_854_775_807.0 else { return nil }
        return .nanoseconds(Int64(nanoseconds))
    }

    /// The duration in seconds as a Double.
    public var seconds: Double {
        let (s, attos) = components
        return Double(s) + Double(attos) / 1e18
    }
}
