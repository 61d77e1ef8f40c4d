import CapstanHTTP
import Foundation
import Logging
import Synchronization
import Testing

private final class Kept: Sendable {
    let lines = Mutex<[String]>([])
}

/// Keeps the messages it is handed.
private struct KeepingHandler: LogHandler {
    let kept: Kept
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) { kept.lines.withLock { $0.append("\(event.level): \(event.message)") } }
}

@Suite("Log level control")
struct LogLevelControlTests {
    @Test("SET_LOGGING_LEVEL's verbosity makes every logger more verbose for its duration, then the level reverts")
    func overrideLapses() async throws {
        let control = LogLevelControl()
        let kept = Kept()
        let logger = Logger(label: "test") { _ in ControlledLogHandler(KeepingHandler(kept: kept), control: control) }
        #expect(control.verbosity == 0)
        logger.debug("hidden")
        control.set(verbosity: 1, for: .seconds(1))
        #expect(logger.logLevel == .debug)
        #expect(control.verbosity == 1)
        logger.debug("shown")
        logger.trace("still hidden")
        let deadline = ContinuousClock.now + .seconds(30)
        while control.verbosity != 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(control.verbosity == 0)
        #expect(logger.logLevel == .info)
        logger.debug("hidden again")
        #expect(kept.lines.withLock { $0 } == ["debug: shown"])
    }

    @Test("The handler's own level applies when no SET is in force; verbosities map to levels")
    func ownLevelAndMapping() {
        let control = LogLevelControl()
        var logger = Logger(label: "own") { _ in ControlledLogHandler(StreamLogHandler.standardError(label: "own"), control: control) }
        logger.logLevel = .warning
        #expect(logger.logLevel == .warning)
        control.set(verbosity: 7, for: .seconds(60))
        #expect(logger.logLevel == .trace)
        #expect(control.verbosity == 2)
        control.setBase(.debug)
        #expect(LogLevelControl.level(verbosity: 0) == .info)
        #expect(LogLevelControl.verbosity(of: .error) == 0)
        #expect(throws: (any Error).self) { try LogLevelControl.duration(nanoseconds: 0, field: "d") }
        #expect(throws: (any Error).self) { try LogLevelControl.duration(nanoseconds: .max, field: "d") }
    }
}
