import CapstanCore
import Logging
import Synchronization

/// The process's log level, as Mesos' GET_LOGGING_LEVEL and SET_LOGGING_LEVEL read and change it: one per process
/// (master and agent in one process share it, as they share glog in Mesos). ``ControlledLogHandler`` consults it on
/// every log call, so a SET takes effect at once in every logger, and lapses by itself when its duration ends.
///
/// Mesos' level is glog's verbosity: 0 is the default (INFO), higher is more verbose. Here 0 is `info`, 1 `debug`
/// and 2 or more `trace`.
public final class LogLevelControl: Sendable {
    /// The process-wide control the long-running commands' log handler reads.
    public static let shared = LogLevelControl()

    struct Override {
        var level: Logger.Level
        var until: ContinuousClock.Instant
    }

    private let base = Mutex(Logger.Level.info)
    private let override = Mutex<Override?>(nil)

    public init() {}

    /// Sets the level in force when no SET_LOGGING_LEVEL is (`--log-level`).
    public func setBase(_ level: Logger.Level) { base.withLock { $0 = level } }

    /// The level a SET_LOGGING_LEVEL imposes now, or nil when none is in force (none set, or its duration ended).
    public var overriding: Logger.Level? {
        override.withLock { current in
            guard let set = current else { return nil }
            if ContinuousClock.now < set.until { return set.level }
            current = nil
            return nil
        }
    }

    /// The level in force: a SET_LOGGING_LEVEL's while it lasts, otherwise `--log-level`'s.
    public var effective: Logger.Level { overriding ?? base.withLock { $0 } }

    /// SET_LOGGING_LEVEL: Mesos verbosity `level` for `duration`, after which the level reverts.
    public func set(verbosity level: UInt32, for duration: Duration) {
        let until = ContinuousClock.now.advanced(by: duration)
        override.withLock { $0 = Override(level: Self.level(verbosity: level), until: until) }
    }

    /// GET_LOGGING_LEVEL: the effective level as a Mesos verbosity.
    public var verbosity: UInt32 { Self.verbosity(of: effective) }

    /// 0 → info, 1 → debug, 2 or more → trace.
    public static func level(verbosity: UInt32) -> Logger.Level {
        switch verbosity {
        case 0: .info
        case 1: .debug
        default: .trace
        }
    }

    /// trace → 2, debug → 1, anything less verbose → 0.
    public static func verbosity(of level: Logger.Level) -> UInt32 {
        switch level {
        case .trace: 2
        case .debug: 1
        default: 0
        }
    }

    /// Checks a SET_LOGGING_LEVEL's duration: positive and at most a year (Mesos takes any; a year bounds a typo).
    public static func duration(nanoseconds: Int64, field: String) throws(CapstanError) -> Duration {
        guard nanoseconds > 0 else {
            throw CapstanError(.invalidArgument, "\(field).nanoseconds must be > 0 (it was \(nanoseconds))")
        }
        guard nanoseconds <= 366 * 86_400 * 1_000_000_000 else {
            throw CapstanError(.invalidArgument, "\(field).nanoseconds must be at most a year (it was \(nanoseconds))")
        }
        return .nanoseconds(nanoseconds)
    }
}

/// A log handler whose level is the handler's own (`--log-level`, or what a logger sets) except while a
/// SET_LOGGING_LEVEL is in force in its ``LogLevelControl``; it writes through `inner`.
public struct ControlledLogHandler: LogHandler {
    public var inner: any LogHandler
    let control: LogLevelControl
    var ownLevel: Logger.Level

    public init(_ inner: any LogHandler, control: LogLevelControl = .shared) {
        self.inner = inner
        self.control = control
        self.ownLevel = inner.logLevel
        self.inner.logLevel = .trace
    }

    public var logLevel: Logger.Level {
        get { control.overriding ?? ownLevel }
        set { ownLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        inner.log(event: event)
    }
}
