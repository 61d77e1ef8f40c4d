import CapstanCore
import CapstanLinux
import Foundation
import Logging

/// The Docker volumes mounted on this agent: one mount per (driver, volume name), shared by every container that
/// claims it and unmounted when the last claim is released — with the table journalled (``DockerVolumeJournal``) so
/// that an agent restart neither loses a mount nor releases a claim twice.
///
/// ## Contract
/// - ``claim(containerID:driver:name:options:)``: the first claim of a volume activates its plugin (once per plugin),
///   makes sure the volume exists (`Get`, then `Create` when the plugin does not know it, as Docker does), mounts it
///   (`Mount` with a fresh mount ID) and returns the checked host mountpoint (``DockerVolumeMountpoint``). Later
///   claims only add the container and return the same mountpoint. Claiming twice is a no-op.
/// - ``release(containerID:)``: drops every claim of the container; the last claim of a volume unmounts it
///   (`Unmount` with the mount's ID). Never throws: the container is gone whatever the plugin says.
/// - ``recover(liveContainers:)``: at agent start, once the containerizer knows which containers survived. Claims of
///   containers not in `liveContainers` are released, each exactly once; claims of live ones are kept with no plugin
///   call. It may wait for an unreachable plugin's retry window, so it can run in the background: claims made
///   meanwhile wait only if they are for a volume being settled.
/// - Calls for one volume are serialized; calls for different volumes run side by side.
/// - The `ID` sent with Mount and Unmount is the mount's own (`capstan-<uuid>`, journalled), not a container ID as
///   Docker sends: the agent mounts a volume once for all its containers and counts the claims itself.
///
/// ## Crash safety: what the journal says at each step and how ``recover(liveContainers:)`` settles it
/// - First claim: the record is written `mounting` *before* `Mount`, then `mounted` with the mountpoint after it.
///   A crash in between (Mount sent, answered or not, journal still `mounting`) leaves a record whose mount may or may
///   not exist and whose claimant never got a mountpoint, so its launch did not finish: recover rolls it back —
///   `Unmount` with the journalled mount ID, which a plugin that never mounted answers harmlessly — and drops it.
/// - Later claim: the claimant is journalled before the mountpoint is returned, so a container never uses a volume its
///   claim is not on disk for. A crash right after leaves a claimant whose container never started; recover sees it
///   dead and releases it.
/// - Last release: the record is written `unmounting` (no claimants) *before* `Unmount`, and removed after it. A crash
///   in between leaves `unmounting`: recover sends the `Unmount` again with the same mount ID (the plugin may see it
///   twice — an ID it already unmounted — but never misses it) and removes the record. A crash before the
///   `unmounting` write leaves the dead claimant journalled: recover releases it.
/// - A release that is not the last: the smaller claimant list is written; a crash before that leaves the dead
///   container listed, and recover releases it.
/// - An `Unmount` the plugin refuses with an `Err` is final (logged, record removed); one that cannot reach the plugin
///   or times out keeps the record `unmounting`, retried by the volume's next claim or the next recover.
public actor DockerVolumeMounts {
    public nonisolated let plugins: DockerVolumePlugins
    let journal: DockerVolumeJournal
    let logger: Logger

    /// Records by mount ID (a volume has at most one `mounting` or `mounted` record, and possibly `unmounting` ones
    /// whose Unmount still has to reach the plugin).
    private var records: [String: DockerVolumeMountRecord] = [:]
    private var loading: Task<Void, Never>?
    /// Per-volume mutual exclusion (``lock(_:)``): the volumes held, and who waits for each, in order.
    private var held: Set<VolumeKey> = []
    private var waiters: [VolumeKey: [CheckedContinuation<Void, Never>]] = [:]

    struct VolumeKey: Hashable, Sendable {
        var driver: DockerPluginName
        var volume: DockerVolumeName
    }

    /// - Parameters:
    ///   - journalDirectory: where the mount table is journalled (`<work_dir>/volumes/docker`); created on first use.
    ///   - plugins: the host's plugins.
    public init(journalDirectory: String, plugins: DockerVolumePlugins, logger: Logger = Logger(label: "capstan.agent.volumes.docker")) {
        self.journal = DockerVolumeJournal(directory: journalDirectory)
        self.plugins = plugins
        self.logger = logger
    }

    /// The current mounts, by driver and volume.
    public func mounts() async -> [DockerVolumeMountRecord] {
        await load()
        return records.values.sorted { ($0.driver, $0.volume, $0.mountID) < ($1.driver, $1.volume, $1.mountID) }
    }

    /// Claims the volume `name` of `driver` for `containerID` and returns its host mountpoint, mounting it when this
    /// is its first claim. Throws ``DockerVolumePluginError`` when the plugin refuses a call (its `Err` verbatim),
    /// `CapstanError` for a bad driver or volume name, a plugin not found, not a volume driver or unreachable, a bad
    /// mountpoint or a journal that cannot be written. A failed claim leaves no claim behind.
    public func claim(containerID: ContainerID, driver: String, name: String, options: [String: String] = [:]) async throws -> String {
        let key = VolumeKey(driver: try DockerPluginName(driver), volume: try DockerVolumeName(name))
        guard !containerID.value.isEmpty else { throw CapstanError(.invalidArgument, "a Docker volume claim needs a container ID") }
        await load()
        await lock(key)
        defer { unlock(key) }

        if var leftover = active(key), leftover.state == .mounting {
            // A mount a crash interrupted, met before recover(liveContainers:) ran: roll it back first.
            leftover.claimants = []
            await settle(leftover, reason: "interrupted mount")
        }
        if var record = active(key) {
            guard let mountpoint = record.mountpoint else {
                throw CapstanError(.internal, "the journalled mount of Docker volume '\(key.volume)' of '\(key.driver)' has no mountpoint")
            }
            if !record.claimants.contains(containerID.value) {
                record.claimants = (record.claimants + [containerID.value]).sorted()
                try await journal.write(record)
                records[record.mountID] = record
                logger.info("Docker volume '\(key.volume)' of '\(key.driver)' shared", metadata: ["container_id": "\(containerID)"])
            }
            return mountpoint
        }
        for pending in unmounting(key) {
            guard await unmount(pending) else {
                throw CapstanError(
                    .unavailable,
                    "Docker volume '\(key.volume)' of '\(key.driver)' is still being unmounted from an earlier use and its plugin cannot be reached to finish that"
                )
            }
        }
        return try await mount(key, for: containerID, options: options)
    }

    /// Releases every claim of `containerID`; a volume left without claims is unmounted.
    public func release(containerID: ContainerID) async {
        await load()
        let keys = Set(records.values.filter { $0.claimants.contains(containerID.value) }.map(\.key))
        for key in keys.sorted(by: { ($0.driver, $0.volume) < ($1.driver, $1.volume) }) {
            await lock(key)
            defer { unlock(key) }
            guard var record = active(key), record.claimants.contains(containerID.value) else { continue }
            record.claimants.removeAll { $0 == containerID.value }
            await settle(record, reason: "released by container \(containerID)")
        }
    }

    /// Settles the journal at agent start: claims of containers not in `liveContainers` are released (each exactly
    /// once: the smaller claimant list is journalled before any Unmount), mounts left without claims are unmounted,
    /// mounts interrupted mid-Mount are rolled back and interrupted Unmounts are sent again. Claims of live containers
    /// are kept without calling their plugins. Mounts of different volumes are settled side by side.
    public func recover(liveContainers: Set<ContainerID>) async {
        await load()
        let live = Set(liveContainers.map(\.value))
        let mountIDs = records.keys.sorted()
        await withTaskGroup(of: Void.self) { group in
            for mountID in mountIDs {
                group.addTask { await self.recover(mountID, live: live) }
            }
        }
    }

    private func recover(_ mountID: String, live: Set<String>) async {
        guard let key = records[mountID]?.key else { return }
        await lock(key)
        defer { unlock(key) }
        guard var record = records[mountID] else { return }
        switch record.state {
        case .mounting:
            logger.warning(
                "Docker volume '\(record.volume)' of '\(record.driver)' was being mounted when the agent stopped; rolling the mount back")
            record.claimants = []
            await settle(record, reason: "interrupted mount")
        case .unmounting:
            _ = await unmount(record)
        case .mounted:
            let dead = record.claimants.filter { !live.contains($0) }
            guard !dead.isEmpty else { return }
            record.claimants.removeAll { !live.contains($0) }
            await settle(record, reason: "claims of containers that ended while the agent was down: \(dead.joined(separator: ", "))")
        }
    }

    /// Journals `record` with its (smaller) claimant list, unmounting it when the list is empty.
    private func settle(_ record: DockerVolumeMountRecord, reason: String) async {
        var record = record
        if record.claimants.isEmpty {
            record.state = .unmounting
        }
        do {
            try await journal.write(record)
        } catch {
            // The journal still lists the released claimants: their containers are gone, so the next recover
            // releases them; the mount goes on below regardless.
            logger.error("cannot journal the release of Docker volume '\(record.volume)' of '\(record.driver)': \(error)")
        }
        records[record.mountID] = record
        if record.state == .unmounting {
            logger.info("Docker volume '\(record.volume)' of '\(record.driver)' has no claims left (\(reason)); unmounting")
            _ = await unmount(record)
        }
    }

    /// Sends Unmount for `record` (state `unmounting`) and drops it when the plugin answered, even with an `Err`;
    /// keeps it when the plugin could not be reached or did not answer. Whether the record is gone.
    private func unmount(_ record: DockerVolumeMountRecord) async -> Bool {
        do {
            let driver = try await plugins.driver(record.driver)
            try await driver.unmount(record.volume, id: record.mountID)
            logger.info("Docker volume '\(record.volume)' of '\(record.driver)' unmounted")
        } catch let error as DockerVolumePluginError {
            logger.error("\(error); the mount is dropped from the journal")
        } catch {
            logger.error(
                "cannot unmount Docker volume '\(record.volume)' of '\(record.driver)' (mount ID \(record.mountID)): \(error); retrying at its next claim or agent start"
            )
            return false
        }
        do {
            try await journal.remove(record.mountID)
        } catch {
            logger.error("cannot remove the journal record of Docker volume '\(record.volume)': \(error)")
        }
        records[record.mountID] = nil
        return true
    }

    /// The first claim: journal `mounting`, ensure the volume, Mount, check the mountpoint, journal `mounted`.
    private func mount(_ key: VolumeKey, for containerID: ContainerID, options: [String: String]) async throws -> String {
        var record = DockerVolumeMountRecord(
            driver: key.driver, volume: key.volume, options: options, mountID: "capstan-" + UUID().uuidString.lowercased(),
            state: .mounting,
            mountpoint: nil, claimants: [containerID.value])
        try await journal.write(record)
        records[record.mountID] = record
        // Whether the plugin may hold a mount under this ID: from the moment Mount is sent, unless the plugin
        // refused it (an Err) or was never reached (no connection could be made).
        var mayBeMounted = false
        do {
            let driver = try await plugins.driver(key.driver)
            try await driver.ensure(key.volume, options: options)
            let answer: String
            do {
                mayBeMounted = true
                answer = try await driver.mount(key.volume, id: record.mountID)
            } catch let error as DockerVolumePluginError {
                mayBeMounted = false
                throw error
            } catch let error as CapstanError where error.code == .unavailable {
                mayBeMounted = false
                throw error
            }
            let mountpoint = try await Blocking.run { () throws -> String in
                try DockerVolumeMountpoint.check(answer, plugin: key.driver, volume: key.volume)
            }
            record.state = .mounted
            record.mountpoint = mountpoint
            try await journal.write(record)
            records[record.mountID] = record
            logger.info(
                "Docker volume '\(key.volume)' of '\(key.driver)' mounted at \(mountpoint)", metadata: ["container_id": "\(containerID)"])
            return mountpoint
        } catch {
            if mayBeMounted {
                // Mount may have taken effect (it timed out, the connection broke, or the mountpoint or the journal
                // failed afterwards): undo it.
                record.claimants = []
                await settle(record, reason: "failed mount")
            } else {
                do { try await journal.remove(record.mountID) } catch {
                    logger.error("cannot remove the journal record of Docker volume '\(key.volume)': \(error)")
                }
                records[record.mountID] = nil
            }
            throw error
        }
    }

    private func active(_ key: VolumeKey) -> DockerVolumeMountRecord? {
        records.values.first { $0.key == key && $0.state != .unmounting }
    }

    private func unmounting(_ key: VolumeKey) -> [DockerVolumeMountRecord] {
        records.values.filter { $0.key == key && $0.state == .unmounting }.sorted { $0.mountID < $1.mountID }
    }

    /// Waits (first come, first served) until no other call holds `key`, then holds it. Not cancellable: holders
    /// always finish, as every plugin call they make has a deadline.
    private func lock(_ key: VolumeKey) async {
        guard held.contains(key) else {
            held.insert(key)
            return
        }
        await withCheckedContinuation { waiters[key, default: []].append($0) }
    }

    /// Hands `key` to its next waiter, who then holds it, or frees it.
    private func unlock(_ key: VolumeKey) {
        if var queue = waiters[key], !queue.isEmpty {
            let next = queue.removeFirst()
            waiters[key] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            held.remove(key)
        }
    }

    /// Reads the journal once, before the first operation.
    private func load() async {
        if let loading { return await loading.value }
        let task = Task {
            do {
                let loaded = try await journal.load()
                for problem in loaded.unreadable { logger.error("skipping an unreadable Docker volume journal record: \(problem)") }
                for record in loaded.records { records[record.mountID] = record }
            } catch {
                logger.error("cannot read the Docker volume journal: \(error)")
            }
        }
        loading = task
        await task.value
    }
}

extension DockerVolumeMountRecord {
    var key: DockerVolumeMounts.VolumeKey { .init(driver: driver, volume: volume) }
}
