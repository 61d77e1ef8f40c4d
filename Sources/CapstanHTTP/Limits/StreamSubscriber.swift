import CapstanAPI
import NIOCore
import Synchronization

/// The queue of one SUBSCRIBE stream (scheduler, operator or executor): events are encoded as RecordIO records when
/// they are sent and wait here until the response writes them. The queue is bounded in bytes: a subscriber that
/// falls further behind (it stopped reading, so its TCP window and then this queue filled) overflows: its records
/// are dropped at once, the stream ends and its connection is closed. A record is always queued when the queue is
/// empty, so one event larger than the bound still goes out.
public final class StreamSubscriber<Event: Encodable & Sendable>: Sendable {
    /// The most bytes of records that may wait.
    public let limit: Int
    private let state = Mutex(State())

    private struct State {
        var records: [ByteBuffer] = []
        var head = 0
        var bytes = 0
        var finished = false
        var overflowed = false
        var waiter: CheckedContinuation<ByteBuffer?, Never>?
        var onOverflow: (@Sendable () -> Void)?

        mutating func pop() -> ByteBuffer? {
            guard head < records.count else { return nil }
            let record = records[head]
            head += 1
            bytes -= record.readableBytes
            if head == records.count {
                records.removeAll(keepingCapacity: records.count <= 64)
                head = 0
            } else if head >= 64, head * 2 >= records.count {
                records.removeFirst(head)
                head = 0
            }
            return record
        }
    }

    public init(limit: Int) {
        self.limit = limit
    }

    /// One event as the RecordIO record a stream writes; publish one record to many subscribers to encode once.
    public static func record(_ event: Event) throws -> ByteBuffer {
        ByteBuffer(bytes: RecordIOEncoder.encode(try MesosJSON.encode(event)))
    }

    /// Queues an event. False when it was not queued: the stream has ended, or this event overflowed it (see
    /// ``overflowed``). An event that cannot be encoded ends the stream.
    @discardableResult
    public func yield(_ event: Event) -> Bool {
        guard let record = try? Self.record(event) else {
            finish()
            return false
        }
        return yield(record: record)
    }

    /// Queues an encoded record (from ``record(_:)``); false as for ``yield(_:)``.
    @discardableResult
    public func yield(record: ByteBuffer) -> Bool {
        let outcome: YieldOutcome = state.withLock { state in
            if state.finished { return .ended }
            if let waiter = state.waiter {
                state.waiter = nil
                return .resumed(waiter)
            }
            if state.bytes > 0, state.bytes + record.readableBytes > limit {
                state.overflowed = true
                state.finished = true
                state.records = []
                state.head = 0
                state.bytes = 0
                let hook = state.onOverflow
                state.onOverflow = nil
                return .overflowed(hook)
            }
            state.records.append(record)
            state.bytes += record.readableBytes
            return .queued
        }
        switch outcome {
        case .queued: return true
        case .resumed(let waiter):
            waiter.resume(returning: record)
            return true
        case .ended: return false
        case .overflowed(let hook):
            hook?()
            return false
        }
    }

    /// Ends the stream once the records already queued are written.
    public func finish() {
        let waiter: CheckedContinuation<ByteBuffer?, Never>? = state.withLock { state in
            state.finished = true
            state.onOverflow = nil
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// True once the subscriber fell more than ``limit`` bytes behind and was cut off.
    public var overflowed: Bool { state.withLock { $0.overflowed } }

    /// Bytes of records waiting to be written.
    public var queuedBytes: Int { state.withLock { $0.bytes } }

    /// Runs `hook` (once) if the subscriber overflows: the stream response closes its connection there.
    func onOverflow(_ hook: @escaping @Sendable () -> Void) {
        state.withLock { $0.onOverflow = $0.finished ? nil : hook }
    }

    /// The next record to write; nil once the stream has ended and everything queued was taken. One reader only.
    func next() async -> ByteBuffer? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ByteBuffer?, Never>) in
                let ready: ByteBuffer?? = state.withLock { state in
                    if let record = state.pop() { return .some(record) }
                    if state.finished { return .some(nil) }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            self.finish()
        }
    }
}

/// What queueing one record did.
private enum YieldOutcome {
    case queued, ended
    case resumed(CheckedContinuation<ByteBuffer?, Never>)
    case overflowed((@Sendable () -> Void)?)
}
