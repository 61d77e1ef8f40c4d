import CapstanAPI
import CapstanContainerizer
import CapstanCore

/// A task's or executor's volumes: Mesos' `container.volumes` checked at the edge and turned into the containerizer's
/// ``ContainerVolume``s; host paths are checked against the agent's `--allowed-host-paths` before anything launches, so
/// a refused one is TASK_ERROR naming the field, the path and why.
extension Agent {
    struct VolumeRefusal: Error {
        var message: String
    }

    /// - Parameter prefix: the JSON path of the `ContainerInfo`, e.g. `task.container`.
    static func containerVolumes(_ container: ContainerInfo?, prefix: String, policy: HostPathPolicy) throws(VolumeRefusal) -> [ContainerVolume] {
        var volumes: [ContainerVolume] = []
        for (index, volume) in (container?.volumes ?? []).enumerated() {
            let field = "\(prefix).volumes[\(index)]"
            guard !volume.containerPath.isEmpty else { throw VolumeRefusal(message: "\(field).container_path is empty") }
            let source: ContainerVolume.Source
            switch volume.source?.type {
            case nil, .unknown?:
                guard volume.image == nil else {
                    throw VolumeRefusal(message: "\(field).image: image volumes are not supported by this agent")
                }
                guard let path = volume.hostPath else {
                    throw VolumeRefusal(message: "\(field) names neither host_path nor a source")
                }
                source = .hostPath(try resolveHostPath(path, field: "\(field).host_path", policy: policy))
            case .hostPath?:
                guard let path = volume.source?.hostPath?.path else {
                    throw VolumeRefusal(message: "\(field).source.host_path.path is missing")
                }
                if volume.source?.hostPath?.mountPropagation?.mode == .bidirectional {
                    throw VolumeRefusal(message: "\(field).source.host_path.mount_propagation BIDIRECTIONAL is not supported: a task's mounts never reach the host")
                }
                source = .hostPath(try resolveHostPath(path, field: "\(field).source.host_path.path", policy: policy))
            case .sandboxPath?:
                guard let sandbox = volume.source?.sandboxPath else {
                    throw VolumeRefusal(message: "\(field).source.sandbox_path is missing")
                }
                guard sandbox.type == nil || sandbox.type == .`self` else {
                    throw VolumeRefusal(message: "\(field).source.sandbox_path.type \(sandbox.type?.rawValue ?? "") is not supported: only SELF (this agent runs no nested containers)")
                }
                source = .sandboxPath(sandbox.path)
            case .dockerVolume?:
                guard let docker = volume.source?.dockerVolume else {
                    throw VolumeRefusal(message: "\(field).source.docker_volume is missing")
                }
                guard let driver = docker.driver, !driver.isEmpty else {
                    throw VolumeRefusal(message: "\(field).source.docker_volume.driver is missing: name the volume plugin")
                }
                guard !docker.name.isEmpty else { throw VolumeRefusal(message: "\(field).source.docker_volume.name is empty") }
                var options: [String: String] = [:]
                for parameter in docker.driverOptions?.parameter ?? [] { options[parameter.key] = parameter.value }
                source = .dockerVolume(driver: driver, name: docker.name, options: options)
            case .secret?, .csiVolume?:
                throw VolumeRefusal(message: "\(field).source.type \(volume.source?.type?.rawValue ?? "") is not supported by this agent")
            }
            volumes.append(ContainerVolume(source: source, containerPath: volume.containerPath, readOnly: volume.mode == .ro))
        }
        return volumes
    }

    /// The host path as the policy checks it (the isolator checks it again at launch, against what is there then).
    private static func resolveHostPath(_ path: String, field: String, policy: HostPathPolicy) throws(VolumeRefusal) -> String {
        do {
            _ = try policy.resolve(path, field: field)
        } catch {
            throw VolumeRefusal(message: error.message)
        }
        return path
    }
}
