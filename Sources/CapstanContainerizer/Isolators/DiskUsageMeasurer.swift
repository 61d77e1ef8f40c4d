import CapstanCore
import CLinux
import Foundation
import Glibc
import Synchronization

/// Runs ``DiskUsageWalker`` measurements one at a time (as Mesos' `du` collector queues its `du` runs) on a thread of
/// its own, never on the cooperative pool, at the idle I/O class (`ionice -c3`) and nice 19, so that measuring
/// sandboxes never starves the host's disk or CPU.
///
/// The idle I/O class takes effect where the block device's scheduler honours it (bfq); with `none` or `mq-deadline`
/// only the single queue and nice limit the cost. The thread ends after a minute without requests and is started
/// again by the next one.
public final class DiskUsageMeasurer: Sendable {
    /// One measurement and how long it took.
    public struct Measurement: Sendable, Hashable {
        public var usage: DiskUsage
        /// Wall time of the walk.
        public var duration: Duration
        /// CPU time the measuring thread spent on the walk (user and system).
        public var cpuTime: Duration
    }

    /// The measuring thread's priority, read back from the kernel once it was set.
    public struct Priority: Sendable, Hashable {
        /// `ioprio_get`'s class: 3 = idle; negative: the errno of a failure.
        public var ioClass: Int32
        /// `getpriority` of the thread.
        public var nice: Int32
    }

    private final class Request: Sendable {
        let roots: [String]
        let stopped = Atomic<Bool>(false)
        let continuation = Mutex<CheckedContinuation<Measurement, any Error>?>(nil)

        init(roots: [String]) { self.roots = roots }

        /// Resumes the waiter once; later calls do nothing.
        func finish(_ result: Result<Measurement, any Error>) {
            continuation.withLock { $0.take() }?.resume(with: result)
        }
    }

    private struct Queue: ~Copyable {
        var requests: [Request] = []
        var threadRunning = false
    }

    private let queue = Mutex(Queue())
    /// Counts queued requests; the thread waits on it.
    private let available = Semaphore()
    private let idleExit: Duration
    private let lowPriority: Bool
    private let priority = Mutex<Priority?>(nil)

    /// - Parameters:
    ///   - idleExit: how long the thread waits for a request before it ends.
    ///   - lowPriority: run at the idle I/O class and nice 19 (`false` only to compare costs, as `capstan bench disk` does).
    public init(idleExit: Duration = .seconds(60), lowPriority: Bool = true) {
        self.idleExit = idleExit
        self.lowPriority = lowPriority
    }

    /// The priority the measuring thread runs at, once it has run.
    public var threadPriority: Priority? { priority.withLock { $0 } }

    /// Measures `roots` together (see ``DiskUsageWalker/measure(_:shouldStop:)``) after the measurements queued before.
    /// Cancelling the calling task returns at once with `CancellationError` and stops the walk at its next check.
    public func measure(_ roots: [String]) async throws -> Measurement {
        let request = Request(roots: roots)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                request.continuation.withLock { $0 = continuation }
                if request.stopped.load(ordering: .acquiring) {
                    request.finish(.failure(CancellationError()))
                    return
                }
                enqueue(request)
            }
        } onCancel: {
            request.stopped.store(true, ordering: .releasing)
            request.finish(.failure(CancellationError()))
        }
    }

    private func enqueue(_ request: Request) {
        let start = queue.withLock { queue in
            queue.requests.append(request)
            defer { queue.threadRunning = true }
            return !queue.threadRunning
        }
        available.signal()
        guard start else { return }
        let thread = Thread { [self] in serve() }
        thread.name = "capstan-disk-du"
        thread.start()
    }

    /// The thread's loop: lower its priority, then measure each request in turn until idle.
    private func serve() {
        if lowPriority { lowerPriority() }
        while true {
            if !available.wait(timeout: idleExit) {
                let exit = queue.withLock { queue in
                    // A request queued just as the wait timed out is served before the thread ends.
                    if queue.requests.isEmpty { queue.threadRunning = false }
                    return !queue.threadRunning
                }
                if exit { return }
                continue
            }
            guard let request = queue.withLock({ $0.requests.isEmpty ? nil : $0.requests.removeFirst() }) else { continue }
            if request.stopped.load(ordering: .acquiring) {
                request.finish(.failure(CancellationError()))
                continue
            }
            let start = ContinuousClock.now
            let cpuStart = Self.threadCPUTime()
            let result = Result {
                try DiskUsageWalker.measure(request.roots) { request.stopped.load(ordering: .relaxed) }
            }
            let (duration, cpuTime) = (ContinuousClock.now - start, Self.threadCPUTime() - cpuStart)
            request.finish(result.map { Measurement(usage: $0, duration: duration, cpuTime: cpuTime) })
        }
    }

    /// The calling thread's CPU time so far.
    private static func threadCPUTime() -> Duration {
        .nanoseconds(Int64(clamping: capstan_thread_cpu_ns()))
    }

    /// Idle I/O class and nice 19 for the calling thread (only: both are per thread on Linux), read back.
    private func lowerPriority() {
        let ioError = capstan_ioprio_set_self(CAPSTAN_IOPRIO_CLASS_IDLE, 0)
        _ = capstan_nice_self(19)
        errno = 0
        let nice = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(capstan_gettid()))
        let ioClass = ioError == 0 ? capstan_ioprio_class_self() : -ioError
        priority.withLock { $0 = Priority(ioClass: ioClass, nice: nice) }
    }
}

/// A counting semaphore with a timed wait, for the measuring thread (a plain thread, not an async task).
private final class Semaphore: @unchecked Sendable {
    // Guarded by `condition`.
    private var count = 0
    private let condition = NSCondition()

    func signal() {
        condition.lock()
        count += 1
        condition.signal()
        condition.unlock()
    }

    /// Takes one; `false` when none came within `timeout`.
    func wait(timeout: Duration) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout.seconds)
        condition.lock()
        defer { condition.unlock() }
        while count == 0 {
            if !condition.wait(until: deadline) && count == 0 { return false }
        }
        count -= 1
        return true
    }
}
