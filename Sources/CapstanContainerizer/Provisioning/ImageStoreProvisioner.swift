public import CapstanCore
public import CapstanImage

/// Provisions containers from an ``ImageStore``: pulls (through the store's registry options) or imports missing
/// images, hands out their unpacked layers, and records each container as a layer user, which `prune` respects
/// (also from another process, such as `capstan image prune` beside a running agent).
public struct ImageStoreProvisioner: Provisioner {
    public let store: ImageStore
    /// The directory whose existence keeps a container's layer record alive should the process die before releasing
    /// it (the Linux launcher's state directory of the container); `prune` drops records whose directory is gone.
    private let leaseDirectory: @Sendable (ContainerID) -> String

    /// Creates a provisioner.
    /// - Parameters:
    ///   - store: where images and their layers are kept.
    ///   - leaseDirectory: the state directory of a container (``LinuxLauncher/stateDirectory(of:)``).
    public init(store: ImageStore, leaseDirectory: @escaping @Sendable (ContainerID) -> String) {
        self.store = store
        self.leaseDirectory = leaseDirectory
    }

    public func provision(_ image: ContainerImage, for id: ContainerID) async throws -> ProvisionedRootfs {
        do {
            let user = LayerUser(name: id.value, directory: leaseDirectory(id))
            let (layers, config) = try await store.rootfsLayers(for: image.reference, user: user)
            return ProvisionedRootfs(
                layers: layers,
                process: ImageProcessConfig(
                    entrypoint: config.entrypoint ?? [], cmd: config.cmd ?? [], env: config.env ?? [],
                    workingDir: config.workingDir, user: config.user, labels: config.labels))
        } catch {
            throw CapstanError((error as? CapstanError)?.code ?? .internal, "cannot provide image \(image.reference): \(error)")
        }
    }

    public func release(_ id: ContainerID) async throws {
        try await store.releaseLayers(user: id.value)
    }
}
