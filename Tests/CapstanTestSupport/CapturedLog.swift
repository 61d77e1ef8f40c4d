import Foundation
import Logging

/// A log handler that keeps what is logged (at `only` one level, or at every level), so a test can assert on the
/// lines or name them in a failure message: `Logger(label: "test") { _ in log }`.
public final class CapturedLog: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var captured: [String] = []
    private let only: Logger.Level?
    public var logLevel: Logger.Level = .trace
    public var metadata: Logger.Metadata = [:]

    public init(only level: Logger.Level? = nil) {
        self.only = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        guard only == nil || event.level == only else { return }
        lock.withLock { captured.append("\(event.level) \(event.message) \(event.metadata ?? [:])") }
    }

    /// Every line kept, oldest first: `level message [metadata]`.
    public var lines: [String] { lock.withLock { captured } }
}
