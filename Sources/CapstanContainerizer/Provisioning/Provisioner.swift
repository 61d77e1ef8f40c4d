public import CapstanCore

/// The image a container runs from, as its ``ContainerConfig`` names it; the containerizer's ``Provisioner`` resolves it.
public struct ContainerImage: Sendable, Hashable, Codable {
    /// An image reference as the image store takes it: `docker://…`, `oci:PATH`, `oci-archive:PATH`,
    /// `docker-archive:PATH`, or the name of a stored image.
    public var reference: String

    /// Names an image.
    public init(reference: String) {
        self.reference = reference
    }
}

/// A container's root filesystem, resolved from its image.
public struct ProvisionedRootfs: Sendable, Hashable {
    /// The image's unpacked layer directories, bottom-first (read-only; shared with other containers).
    public var layers: [String]
    /// The image's process configuration (entrypoint, cmd, env, working dir, user).
    public var process: ImageProcessConfig

    /// Creates a resolved root filesystem.
    public init(layers: [String], process: ImageProcessConfig) {
        self.layers = layers
        self.process = process
    }
}

/// Resolves the image a container names to a root filesystem, and holds the image's layers for that container
/// until the containerizer releases them (Mesos' provisioner).
///
/// Contract:
/// - ``provision(_:for:)`` is called once per launch of a container that names an image, before the isolators'
///   `prepare`; it pulls or imports a missing image, unpacks its layers and records that the container uses them (a
///   lease that keeps them from being pruned). Concurrent calls for the same image may share one pull.
/// - ``release(_:)`` is called whenever the container is cleaned up (after it ended, after a failed launch — also one
///   whose provisioning failed — and for containers found gone at recovery); it is idempotent and accepts containers
///   it never provisioned.
public protocol Provisioner: Sendable {
    /// Resolves `image` to layers and a process configuration, leased to container `id`.
    /// - Throws: ``CapstanError`` naming the image and the cause, e.g. `cannot provide image docker://…: … 404`.
    func provision(_ image: ContainerImage, for id: ContainerID) async throws -> ProvisionedRootfs

    /// Ends container `id`'s lease on its layers.
    func release(_ id: ContainerID) async throws
}
