import CapstanAPI
import CapstanContainerizer
import CapstanCore
import CapstanLinux
import Foundation
import Logging

/// Reservations and persistent volumes on this agent, as the master tells them (RESERVE, UNRESERVE, CREATE, DESTROY):
/// checkpointed in `meta/resources.json`, part of the resources the agent registers with (so a restarted master learns
/// them), with each volume's data in `<work-dir>/volumes/roles/<role>/<id>` from CREATE until DESTROY deletes it.
extension Agent {
    /// The resources the agent registers with: its configured resources with the checkpointed reservations and
    /// volumes carved out of them.
    static func total(configured: Resources, checkpointed: Resources) -> Resources {
        configured - Resources(checkpointed.map(source(of:))) + checkpointed
    }

    /// What a reservation or volume was made from: the unreserved resource, or for a volume on statically reserved
    /// disk, that disk.
    static func source(of resource: Resource) -> Resource {
        var base = resource
        base.volume = nil
        if base.reservation != nil {
            base.role = Resource.unreservedRole
            base.reservation = nil
        }
        return base
    }

    /// The directory of a volume's data; nil when its role or ID cannot name a directory.
    func volumeDirectory(_ resource: Resource) -> String? {
        guard let volume = resource.volume, ResourceOperation.isVolumeID(volume.id), ResourceOperation.isVolumeID(resource.role) else { return nil }
        return configuration.workDir + "/volumes/roles/\(resource.role)/\(volume.id)"
    }

    /// The master's CheckpointResourcesMessage: new volumes get their directory, destroyed ones lose their data (unless
    /// a running task still uses one, which the master never allows; then it is kept and the refusal logged), and the
    /// whole set is checkpointed before the agent answers.
    public func checkpointResources(_ message: CheckpointResourcesMessage) async throws {
        let wanted: Resources
        do { wanted = try Resources(mesos: message.resources) } catch {
            throw CapstanError(.invalidArgument, "checkpoint-resources: \(error.message)")
        }
        let old = checkpointedResources
        let inUse = Set(liveTasks.flatMap { task in ((try? Resources(mesos: task.info.resources)) ?? Resources()).filter { $0.volume != nil } })
        var kept = wanted
        var created: [String] = [], destroyed: [String] = []
        for volume in wanted where volume.volume != nil && !old.contains(where: { $0 == volume }) {
            guard let directory = volumeDirectory(volume) else {
                throw CapstanError(.invalidArgument, "checkpoint-resources: volume '\(volume)' has a role or ID that cannot name a directory")
            }
            created.append(directory)
        }
        for volume in old where volume.volume != nil && !wanted.contains(where: { $0 == volume }) {
            if inUse.contains(volume) {
                logger.error("The master destroyed a volume a running task uses; its data is kept", metadata: ["volume": "\(volume)"])
                kept += Resources([volume])
                continue
            }
            if let directory = volumeDirectory(volume) { destroyed.append(directory) }
        }
        try await checkpoints.write(CheckpointResourcesMessage(resources: kept.mesos), to: "resources.json", version: checkpoints.nextVersion())
        checkpointedResources = kept
        let (made, removed) = (created, destroyed)
        try await Blocking.run {
            for directory in made {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            }
            for directory in removed { try? FileManager.default.removeItem(atPath: directory) }
        }
        if !made.isEmpty || !removed.isEmpty {
            logger.info("Persistent volumes changed", metadata: ["created": "\(made)", "destroyed": "\(removed)"])
        }
    }

    /// A SANDBOX_PATH volume whose path is where a persistent volume of the same task is mounted (Mesos' way to show a
    /// persistent volume at an absolute path in an image's filesystem) binds the volume's own directory: the sandbox's
    /// copy of that path is a mount point in the container's namespace only, so binding it would show an empty directory.
    static func sandboxPaths(_ volumes: [ContainerVolume], onto persistent: [ContainerVolume]) -> [ContainerVolume] {
        func components(_ path: String) -> [Substring] { path.split(separator: "/").filter { $0 != "." } }
        return volumes.map { volume in
            guard case .sandboxPath(let path) = volume.source,
                let match = persistent.first(where: { !$0.containerPath.hasPrefix("/") && components($0.containerPath) == components(path) }),
                case .persistentVolume(let directory) = match.source
            else { return volume }
            return ContainerVolume(source: .persistentVolume(directory), containerPath: volume.containerPath, readOnly: volume.readOnly)
        }
    }

    /// A task's persistent volumes, mounted read-write at their container path in its sandbox.
    func persistentVolumes(_ resources: [MesosResource]) throws(CapstanError) -> [ContainerVolume] {
        let parsed = (try? Resources(mesos: resources)) ?? Resources()
        return try parsed.filter { $0.volume != nil }.map { resource throws(CapstanError) in
            guard let directory = volumeDirectory(resource), checkpointedResources.contains(where: { $0 == resource }) else {
                throw CapstanError(.notFound, "Persistent volume '\(resource.volume?.id ?? "")' of role '\(resource.role)' does not exist on this agent")
            }
            return ContainerVolume(source: .persistentVolume(directory), containerPath: resource.volume?.containerPath ?? "", readOnly: false)
        }
    }
}
