public import CapstanCore
import Glibc
import Logging

extension Containerizer {
    /// Destroys a container: SIGTERM to its processes, SIGKILL once `gracePeriod` has passed (at once when it is
    /// zero), then waits until it has ended and the isolators have cleaned up.
    ///
    /// Idempotent: later calls wait for the same end (a zero grace period sends SIGKILL at once); for a finished
    /// container it returns the recorded termination, whose `killed` tells whether a destroy ended it.
    /// A container still launching is aborted at the next launch step.
    /// - Returns: the termination, or `nil` for an unknown container (or when the calling task is cancelled).
    public func destroy(_ id: ContainerID, gracePeriod: Duration) async -> ContainerTermination? {
        if let termination = finishedTermination(id) { return termination }
        guard var container = live[id] else { return nil }
        let logger = logger(for: id)
        if container.phase != .exiting && !container.destroyRequested {
            container.destroyRequested = true
            logger.info("Destroying container", metadata: ["grace_period": "\(gracePeriod)"])
            if container.phase == .running, let process = container.process {
                if gracePeriod > .zero {
                    sendSignal(process, SIGTERM, id)
                    let clock = self.clock
                    container.escalation = Task {
                        do { try await clock.sleep(for: gracePeriod) } catch { return }
                        self.escalate(id)
                    }
                } else {
                    sendSignal(process, SIGKILL, id)
                }
            }
            live[id] = container
        } else if gracePeriod == .zero, container.phase == .running, let process = container.process {
            sendSignal(process, SIGKILL, id)
        }
        return try? await wait(id)
    }

    /// The grace period has passed: SIGKILL whatever still runs.
    private func escalate(_ id: ContainerID) {
        guard let container = live[id], container.phase == .running, let process = container.process else { return }
        logger(for: id).info("Grace period elapsed; killing container")
        sendSignal(process, SIGKILL, id)
    }
}
