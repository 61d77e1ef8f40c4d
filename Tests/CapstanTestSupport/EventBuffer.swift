import Foundation

/// Events received so far, and a way to wait for the next one that matches.
public actor EventBuffer<Event: Sendable> {
    public private(set) var events: [Event] = []
    private var consumed = 0

    public init() {}

    public func append(_ event: Event) { events.append(event) }

    /// Waits for the next matching event after those already consumed.
    public func next(timeout: Duration = .seconds(10), where predicate: @Sendable (Event) -> Bool) async throws -> Event {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            while consumed < events.count {
                let event = events[consumed]
                consumed += 1
                if predicate(event) { return event }
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("Timed out after \(timeout) waiting for an event; \(events.count) received")
    }
}
