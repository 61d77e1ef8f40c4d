/// `TimeInfo`: nanoseconds since the epoch.
public struct TimeInfo: Codable, Sendable, Hashable {
    @WireInteger public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
}

/// `DurationInfo`: a duration in nanoseconds.
public struct DurationInfo: Codable, Sendable, Hashable {
    @WireInteger public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
}

/// `Unavailability`: an interval from `start` over `duration`.
public struct Unavailability: Codable, Sendable, Hashable {
    public var start: TimeInfo
    public var duration: DurationInfo?

    public init(start: TimeInfo, duration: DurationInfo? = nil) {
        self.start = start
        self.duration = duration
    }
}
