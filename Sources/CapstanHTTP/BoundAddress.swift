import CapstanCore
import Synchronization

/// The address a server actually bound, known once it listens: a `--listen HOST:0` gets its port from the kernel,
/// so whatever advertises the server (the master's MasterInfo, the agent's registration, the reconciler's web UI
/// URL, `capstan up`'s agent finding its master) waits for this instead of reading the configured port.
public final class BoundAddress: Sendable {
    private enum State {
        case waiting([Int: CheckedContinuation<HostPort, any Error>])
        case bound(HostPort)
    }

    private let state = Mutex<(state: State, nextWaiter: Int)>((.waiting([:]), 0))

    public init() {}

    /// Records the bound address and wakes every waiter; later calls are ignored (a server binds once).
    public func set(_ address: HostPort) {
        let waiters: [CheckedContinuation<HostPort, any Error>] = state.withLock { value in
            guard case .waiting(let waiters) = value.state else { return [] }
            value.state = .bound(address)
            return Array(waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: address) }
    }

    /// The address if the server listens already.
    public var current: HostPort? {
        state.withLock { value in
            if case .bound(let address) = value.state { return address }
            return nil
        }
    }

    /// Waits until the server listens; throws `CancellationError` when the waiting task is cancelled first (a server
    /// that failed to bind ends its service group, which cancels the waiters).
    public func value() async throws -> HostPort {
        if let current { return current }
        let id = state.withLock { value in
            defer { value.nextWaiter += 1 }
            return value.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HostPort, any Error>) in
                let outcome: Result<HostPort, any Error>? = state.withLock { value in
                    switch value.state {
                    case .bound(let address):
                        return .success(address)
                    case .waiting(var waiters):
                        if Task.isCancelled { return .failure(CancellationError()) }
                        waiters[id] = continuation
                        value.state = .waiting(waiters)
                        return nil
                    }
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter: CheckedContinuation<HostPort, any Error>? = state.withLock { value in
                guard case .waiting(var waiters) = value.state, let waiter = waiters.removeValue(forKey: id) else { return nil }
                value.state = .waiting(waiters)
                return waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }
}
