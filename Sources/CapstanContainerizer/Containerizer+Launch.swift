public import CapstanCore
import Glibc
import Logging

extension Containerizer {
    /// Launches a container: every isolator's `prepare`, then the launcher's `start`, which hands the first process to
    /// `started` (recorded, waited for, checkpointed) and every process it holds to the isolators' `isolate` before the
    /// task runs.
    ///
    /// On any failure, what was done is undone (the process is killed and collected, every isolator cleans up),
    /// the failure becomes the container's termination for waiters, and the error is thrown.
    /// - Throws: `alreadyExists` for a live container; otherwise a ``CapstanError`` naming the failed step, e.g.
    ///   `Failed to launch: execve '/nope': No such file or directory (errno 2)`.
    public func launch(_ config: ContainerConfig) async throws {
        var config = config
        let id = config.containerID
        let logger = logger(for: id)
        try id.checkPathSafe(field: "container_id")  // it names state, cgroup and checkpoint directories
        guard live[id] == nil else {
            throw CapstanError(.alreadyExists, "Failed to launch: container '\(id)' already exists")
        }
        guard !refusesLaunches else {
            throw CapstanError(.unavailable, "Failed to launch: container '\(id)' was not started because the agent is stopping")
        }
        if let need = config.linuxLauncherNeed, rootfsLauncher == nil, !(launcher is LinuxLauncher) {
            // The plain launcher makes no namespaces or mounts: the networks, volumes or devices would silently be missing.
            throw CapstanError(.failedPrecondition, "Failed to launch: container '\(id)' \(need), which need the Linux launcher (root and capstan-init)")
        }
        forgetFinished(id)
        live[id] = LiveContainer(config: config)
        logger.info("Launching container")
        do {
            if let image = config.image, config.rootfs == nil {
                try await provision(&config, image: image)
                try checkNotDestroyed(id)
            }
            var hooks = LaunchHooks()
            for isolator in isolators {
                let contributed: LaunchHooks?
                do { contributed = try await isolator.prepare(config) } catch { throw Self.isolatorFailure(isolator, "prepare", error) }
                if let contributed {
                    hooks.environment.merge(contributed.environment) { _, later in later }
                    config.mounts += contributed.mounts
                    config.gpus += contributed.gpus
                    config.deviceNodes = try DeviceNodeSpec.merge(config.deviceNodes, contributed.deviceNodes, from: isolator.name)
                    config.additionalGids += contributed.additionalGids.filter { !config.additionalGids.contains($0) }
                    if !contributed.gpus.isEmpty || !contributed.deviceNodes.isEmpty || !contributed.additionalGids.isEmpty {
                        live[id]?.config = config
                    }
                }
                try checkNotDestroyed(id)
            }
            let launcher = self.launcher(for: config)
            let checkpointed = config
            _ = try await launcher.start(
                config, hooks: hooks,
                started: { process in try await self.started(id, process, config: checkpointed, launcher: launcher) },
                place: { pid in try await self.place(id, pid: pid) })
            try checkNotDestroyed(id)
        } catch {
            let failure = Self.launchFailure(error)
            await abortLaunch(id, failure)
            throw failure
        }
        guard let exit = live[id]?.exit else { return }
        live[id]?.phase = .running
        startMonitoring(id, exit: exit)
        logger.info("Container is running", metadata: ["pid": "\(live[id]?.process?.pid ?? -1)"])
    }

    /// The launcher's `started` step: the process is recorded, waited for and checkpointed.
    private func started(_ id: ContainerID, _ process: LaunchedProcess, config: ContainerConfig, launcher: any Launcher) async throws {
        live[id]?.process = process
        live[id]?.exit = Task { await launcher.wait(process) }
        try await writeCheckpoint(live[id]?.config ?? config, process)
        try checkNotDestroyed(id)
    }

    /// The launcher's `place` step: every isolator's `isolate`, in order.
    private func place(_ id: ContainerID, pid: Int32) async throws {
        for isolator in isolators {
            do { try await isolator.isolate(id, pid: pid) } catch { throw Self.isolatorFailure(isolator, "isolate", error) }
        }
        try checkNotDestroyed(id)
    }

    /// Resolves the container's image to its root filesystem and the image's process configuration (under the
    /// config's own, when it has one); the live container keeps the result, so its checkpoint names the rootfs.
    private func provision(_ config: inout ContainerConfig, image: ContainerImage) async throws {
        guard let provisioner else {
            throw CapstanError(
                .unsupported, "Failed to launch: the container names image \(image.reference) but this containerizer cannot run images (it needs root)")
        }
        let provisioned = try await provisioner.provision(image, for: config.containerID)
        config.rootfs = .layers(provisioned.layers)
        if config.imageConfig == nil { config.imageConfig = provisioned.process }
        live[config.containerID]?.config = config
    }

    /// Applies new limits through every isolator.
    /// - Throws: `notFound` when the container is not running; the first isolator error otherwise.
    public func update(_ id: ContainerID, limits: ResourceLimits) async throws {
        guard live[id]?.phase == .running else {
            throw CapstanError(.notFound, "Failed to update: container '\(id)' is not running")
        }
        for isolator in isolators {
            do { try await isolator.update(id, limits: limits) } catch {
                throw CapstanError(Self.code(of: error), "Failed to update: isolator '\(isolator.name)' failed: \(error)")
            }
        }
        live[id]?.config.limits = limits
    }

    /// Watches a running container: its exit, and every isolator's `watch`.
    func startMonitoring(_ id: ContainerID, exit: Task<ContainerTermination, Never>) {
        live[id]?.watchTasks = isolators.map { isolator in
            Task {
                let limitation = await isolator.watch(id)
                if let limitation, !Task.isCancelled { self.limitationReached(id, limitation) }
                return limitation
            }
        }
        Task {
            let termination = await exit.value
            await self.processExited(id, termination)
        }
    }

    /// The first process of a running container has ended: clean up, then report.
    private func processExited(_ id: ContainerID, _ ended: ContainerTermination) async {
        guard var container = live[id], container.phase == .running else { return }
        container.phase = .exiting
        container.watchTasks.forEach { $0.cancel() }
        container.escalation?.cancel()
        live[id] = container
        // A limit hit that killed the process may be seen after its exit: a cancelled watch still reports it.
        if container.limitation == nil {
            for watch in container.watchTasks {
                if let limitation = await watch.value {
                    container.limitation = limitation
                    live[id]?.limitation = limitation
                    break
                }
            }
        }
        await cleanupContainer(id)
        var termination = ended
        termination.killed = container.destroyRequested && container.limitation == nil
        if let limitation = container.limitation {
            termination.limitation = limitation
            termination.message = limitation.message
        }
        logger(for: id).info("Container terminated", metadata: ["termination": "\(termination.message)"])
        finish(id, termination)
    }

    /// An isolator saw a limit hit: remember it and kill the container at once.
    private func limitationReached(_ id: ContainerID, _ limitation: ContainerLimitation) {
        guard var container = live[id], container.phase == .running, container.limitation == nil,
            !container.destroyRequested, let process = container.process
        else { return }
        container.limitation = limitation
        live[id] = container
        logger(for: id).warning(
            "Container hit a limit; killing it", metadata: ["resource": "\(limitation.resource.rawValue)", "reason": "\(limitation.message)"])
        sendSignal(process, SIGKILL, id)
    }

    /// Undoes a failed launch and records the failure as the termination.
    private func abortLaunch(_ id: ContainerID, _ failure: CapstanError) async {
        guard let container = live[id] else { return }
        if let process = container.process {
            sendSignal(process, SIGKILL, id)
            _ = await container.exit?.value
        }
        await cleanupContainer(id)
        logger(for: id).error("Failed to launch container", metadata: ["error": "\(failure.message)"])
        finish(id, ContainerTermination(killed: container.destroyRequested, message: failure.message))
    }

    /// Every isolator's `cleanup`, in reverse order, then the provisioner's release of the container's image layers;
    /// failures are logged, not thrown.
    func cleanupContainer(_ id: ContainerID) async {
        await cleanupIsolators(id)
        guard let provisioner else { return }
        do { try await provisioner.release(id) } catch {
            logger(for: id).error("Failed to release the container's image layers", metadata: ["error": "\(error)"])
        }
    }

    /// Every isolator's `cleanup`, in reverse order; failures are logged, not thrown.
    private func cleanupIsolators(_ id: ContainerID) async {
        for isolator in isolators.reversed() {
            do { try await isolator.cleanup(id) } catch {
                logger(for: id).error(
                    "Isolator failed to clean up", metadata: ["isolator": "\(isolator.name)", "error": "\(error)"])
            }
        }
    }

    /// Sends a signal through the launcher; a process already collected is not an error.
    func sendSignal(_ process: LaunchedProcess, _ signal: Int32, _ id: ContainerID) {
        do { try launcher(of: id).signal(process, signal) } catch let error as CapstanError where error.code == .notFound {
            // Already collected: its termination is on the way.
        } catch {
            logger(for: id).warning("Failed to signal container", metadata: ["error": "\(error)"])
        }
    }

    private func checkNotDestroyed(_ id: ContainerID) throws {
        if live[id]?.destroyRequested == true {
            throw CapstanError(.conflict, "Failed to launch: the container was destroyed while launching")
        }
    }

    private static func isolatorFailure(_ isolator: any Isolator, _ phase: String, _ error: any Error) -> CapstanError {
        CapstanError(code(of: error), "Failed to launch: isolator '\(isolator.name)' failed to \(phase): \(error)")
    }

    private static func launchFailure(_ error: any Error) -> CapstanError {
        if let error = error as? CapstanError { return error }
        return CapstanError(.internal, "Failed to launch: \(error)")
    }

    static func code(of error: any Error) -> CapstanError.Code {
        (error as? CapstanError)?.code ?? .internal
    }
}
