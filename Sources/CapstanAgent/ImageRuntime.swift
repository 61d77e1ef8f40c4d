import CapstanAPI
import CapstanContainerizer
import CapstanCore
import CapstanImage
import Foundation
import Logging

/// What an agent needs to run tasks from images: the image store, whose layers the agent's containerizer mounts
/// through its Linux launcher. Only root has one.
public struct ImageRuntime: Sendable {
    public let store: ImageStore
    /// Where the Linux launcher keeps a container's state; the image store keeps its layers while that directory exists.
    let stateDirectory: @Sendable (ContainerID) -> String

    public init(store: ImageStore, stateDirectory: @escaping @Sendable (ContainerID) -> String) {
        self.store = store
        self.stateDirectory = stateDirectory
    }

    /// The runtime for an agent work dir whose containers with a root filesystem run through `launcher`, pulling
    /// through `registry`; nil (with the reason logged) without root or without a store.
    public static func make(
        workDir: String, launcher: LinuxLauncher?, registry: RegistryOptions = RegistryOptions(), limits: LayerLimits = LayerLimits(),
        logger: Logger
    ) -> ImageRuntime? {
        guard geteuid() == 0, let launcher else {
            logger.warning("Not running as root: tasks that name an image will fail; command tasks run as plain processes")
            return nil
        }
        do {
            let store = try ImageStore(root: workDir + "/images", options: registry, limits: limits, logger: logger)
            return ImageRuntime(store: store, stateDirectory: { launcher.stateDirectory(of: $0) })
        } catch {
            logger.error("Image runtime unavailable: tasks that name an image will fail", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// The image a task names (ContainerInfo type MESOS with a DOCKER image), as an image reference.
    static func imageReference(of container: ContainerInfo?) -> String? {
        guard let name = container?.mesos?.image?.docker?.name, !name.isEmpty else { return nil }
        for scheme in ["docker://", "oci:", "oci-archive:", "docker-archive:"] where name.hasPrefix(scheme) { return name }
        return "docker://" + name
    }

    /// Lays the image under a container config: rootfs layers, the image's process config, hostname and network.
    /// An image not in the store is pulled first (concurrent launches of one image share one pull); a failure names
    /// the image and the cause.
    func prepare(_ config: inout ContainerConfig, image reference: String, container: ContainerInfo?) async throws {
        let layers: [String], image: ImageConfig
        do {
            let user = LayerUser(name: config.containerID.value, directory: stateDirectory(config.containerID))
            (layers, image) = try await store.rootfsLayers(for: reference, user: user)
        } catch {
            throw CapstanError((error as? CapstanError)?.code ?? .internal, "cannot provide image \(reference): \(error)")
        }
        config.rootfs = .layers(layers)
        config.image = ImageProcessConfig(
            entrypoint: image.entrypoint ?? [], cmd: image.cmd ?? [], env: image.env ?? [], workingDir: image.workingDir,
            user: image.user)
        config.hostname = container?.hostname
        // Mesos: no NetworkInfo means the host's network.
        config.networkMode = (container?.networkInfos.isEmpty ?? true) ? .host : .isolated
    }

    /// Lets `prune` remove the layers a container used, now that it has ended.
    func release(_ containerID: ContainerID) async {
        try? await store.releaseLayers(user: containerID.value)
    }
}
