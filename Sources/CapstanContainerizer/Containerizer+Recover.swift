import CapstanCore
import Logging

extension Containerizer {
    /// Recovers checkpointed containers after an agent restart; call once, before any ``launch(_:)``.
    ///
    /// The launcher finds which processes still run; every isolator then gets every state (with a `nil` pid for
    /// the gone ones). Running containers become live again (``wait(_:)``, ``destroy(_:gracePeriod:)`` and
    /// ``usage(_:)`` work; their exit status comes from the launcher's records where it keeps one, as `capstan-init`
    /// does, and is unknown otherwise, as they are no longer the agent's children). Gone containers are cleaned up
    /// and finish with the status the launcher kept (``Launcher/recoveredTermination(of:)``), or a termination saying
    /// their status is unknown.
    /// - Throws: a ``CapstanError`` naming the launcher or the isolator that failed to recover.
    public func recover(_ states: [ContainerRecoveryState]) async throws {
        var alive: [ContainerID: LaunchedProcess] = [:]
        // Each launcher recovers the containers it started: those with a root filesystem, and the others.
        let withRootfs = states.filter { $0.config.rootfs != nil }
        let parts = rootfsLauncher.map { [($0, withRootfs), (launcher, states.filter { $0.config.rootfs == nil })] } ?? [(launcher, states)]
        for (launcher, states) in parts {
            do {
                alive.merge(try await launcher.recover(states)) { first, _ in first }
            } catch {
                throw CapstanError(Self.code(of: error), "Failed to recover: the launcher failed: \(error)")
            }
        }
        let forIsolators = states.map { state in
            var state = state
            state.pid = alive[state.containerID]?.pid
            state.startTicks = alive[state.containerID]?.startTicks
            return state
        }
        for isolator in isolators {
            do { try await isolator.recover(forIsolators) } catch {
                throw CapstanError(Self.code(of: error), "Failed to recover: isolator '\(isolator.name)' failed: \(error)")
            }
        }
        for state in states where live[state.containerID] == nil {
            let id = state.containerID
            if let process = alive[id] {
                let launcher = self.launcher(for: state.config)
                var container = LiveContainer(config: state.config)
                container.process = process
                container.phase = .running
                let exit = Task { await launcher.wait(process) }
                container.exit = exit
                live[id] = container
                startMonitoring(id, exit: exit)
                logger(for: id).info("Recovered container", metadata: ["pid": "\(process.pid)"])
            } else {
                let kept = await launcher(for: state.config).recoveredTermination(of: state)
                await cleanupContainer(id)
                finish(id, kept ?? ContainerTermination(message: "Command exited while the agent was down; its exit status is unknown"))
                logger(for: id).info(
                    "Container ended while the agent was down", metadata: ["termination": "\(kept?.message ?? "unknown")"])
            }
        }
    }
}
