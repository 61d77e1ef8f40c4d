public import CapstanCore
import CapstanLinux
import Foundation
import Glibc

/// The `volume/path` isolator: a container's host-path and sandbox-path volumes (``ContainerVolume``), checked and
/// resolved at `prepare` and handed to the launcher as bind mounts, which `capstan-init` makes in the container's
/// private mount namespace (so nothing is left on the host to undo):
///
/// - a host path must be under the agent's allowed roots once its symlinks are resolved (``HostPathPolicy``); the
///   resolved path is mounted, and `capstan-init` opens it refusing any symlink, so a link swapped in between fails
///   the launch instead of leading out;
/// - a sandbox path is made inside the container's sandbox, refusing symlinks and `..`;
/// - read-only is a recursive read-only mount (EROFS for every write, submounts included);
/// - a relative container path is in the sandbox; an absolute one is in the image's root, or, for a container on
///   the host's filesystem, an existing host path covered only inside the container.
public actor VolumeIsolator: SetupIsolator {
    public nonisolated let name = "volume/path"

    private let policy: HostPathPolicy
    private let docker: DockerVolumeMounts?
    /// The recovery of Docker volume claims, which new claims wait for.
    private var dockerRecovery: Task<Void, Never>?

    /// - Parameter docker: the agent's Docker volume plugin mounts; nil refuses Docker volumes.
    public init(policy: HostPathPolicy, docker: DockerVolumeMounts? = nil) {
        self.policy = policy
        self.docker = docker
    }

    public func prepare(_ config: ContainerConfig) async throws -> LaunchHooks? {
        guard !config.volumes.isEmpty else { return nil }
        // Docker volumes first: the plugin mounts them on the agent (one mount for every container using one), and the
        // container binds the mountpoint as it binds a host path.
        var mountpoints: [Int: String] = [:]
        for (index, volume) in config.volumes.enumerated() {
            guard case .dockerVolume(let driver, let name, let options) = volume.source else { continue }
            guard let docker else {
                throw CapstanError(.unsupported, "volumes[\(index)]: this agent has no Docker volume plugins configured")
            }
            await dockerRecovery?.value
            mountpoints[index] = try await docker.claim(containerID: config.containerID, driver: driver, name: name, options: options)
        }
        let policy = self.policy, claimed = mountpoints
        let mounts = try await Blocking.run { try Self.mounts(config, policy: policy, dockerMountpoints: claimed) }
        return LaunchHooks(mounts: mounts)
    }

    /// Blocking: the bind mounts of `config`'s volumes, in order; `dockerMountpoints` holds the host mountpoint of each
    /// Docker volume, by index.
    static func mounts(_ config: ContainerConfig, policy: HostPathPolicy, dockerMountpoints: [Int: String] = [:]) throws(CapstanError) -> [BindMountSpec] {
        guard let sandbox = HostPaths.real(config.sandboxDirectory) else {
            throw CapstanError(.notFound, "The sandbox \(config.sandboxDirectory) of container \(config.containerID) does not exist")
        }
        let hasRoot = config.rootfs != nil
        var mounts: [BindMountSpec] = []
        for (index, volume) in config.volumes.enumerated() {
            let field = "volumes[\(index)]"
            let source: String
            switch volume.source {
            case .hostPath(let path):
                source = try policy.resolve(path, field: "\(field) host path")
            case .sandboxPath(let path):
                source = try SandboxPath.make(path, in: sandbox, directory: true, field: "\(field) sandbox path")
            case .persistentVolume(let path):
                guard let resolved = HostPaths.real(path) else {
                    throw CapstanError(.notFound, "\(field) persistent volume '\(path)' has no directory on the agent")
                }
                source = resolved
            case .dockerVolume(_, let name, _):
                guard let mountpoint = dockerMountpoints[index] else {
                    throw CapstanError(.internal, "\(field) Docker volume '\(name)' was not mounted")
                }
                source = mountpoint
            }
            let target: String
            let path = volume.containerPath
            if path.hasPrefix("/") {
                guard !path.contains("\0"), !HostPathPolicy.components(path).contains("..") else {
                    throw CapstanError(.invalidArgument, "\(field) container path '\(path)' must not contain '..'")
                }
                target = "/" + HostPathPolicy.components(path).joined(separator: "/")
                if !hasRoot {
                    // The host's filesystem: the mount covers an existing path, in the container's namespace only.
                    var info = stat()
                    guard stat(target, &info) == 0 else {
                        throw CapstanError(
                            .notFound,
                            "\(field) container path '\(path)' does not exist on the agent; a task without an image mounts volumes over existing paths or at a path relative to its sandbox")
                    }
                }
            } else if hasRoot {
                try SandboxPath.check(path, field: "\(field) container path")
                target = LinuxLauncher.sandboxTarget + "/" + HostPathPolicy.components(path).joined(separator: "/")
            } else {
                var info = stat()
                let isDirectory = stat(source, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
                target = try SandboxPath.make(path, in: sandbox, directory: isDirectory, field: "\(field) container path")
            }
            let handedOver: Bool
            switch volume.source {
            case .sandboxPath, .persistentVolume: handedOver = !volume.readOnly
            case .hostPath, .dockerVolume: handedOver = false
            }
            mounts.append(BindMountSpec(source: source, target: target, readOnly: volume.readOnly, refusesSymlinks: true, handedToTask: handedOver))
        }
        return mounts
    }

    public func isolate(_ id: ContainerID, pid: Int32) async throws {}

    /// The mounts live in the container's mount namespace and end with it; sandbox directories go with the sandbox. The
    /// container's claims on Docker volumes are released (the plugin unmounts a volume when its last user ends).
    public func cleanup(_ id: ContainerID) async throws {
        await docker?.release(containerID: id)
    }

    /// Claims on Docker volumes of containers that ended while the agent was down are released, once each. In the
    /// background: an unreachable plugin is retried for its whole window, which must not hold up the agent's start.
    public func recover(_ states: [ContainerRecoveryState]) async throws {
        guard let docker else { return }
        let live = Set(states.filter { $0.pid != nil }.map(\.containerID))
        dockerRecovery = Task { await docker.recover(liveContainers: live) }
    }

    /// Waits until the claims of containers that ended while the agent was down are released.
    public func dockerRecoveryFinished() async {
        await dockerRecovery?.value
    }
}

/// Paths inside a sandbox, made without following symlinks.
enum SandboxPath {
    /// A relative path without `..`.
    static func check(_ path: String, field: String) throws(CapstanError) {
        guard !path.isEmpty, !path.hasPrefix("/"), !path.contains("\0") else {
            throw CapstanError(.invalidArgument, "\(field) '\(path)' must be a path relative to the sandbox")
        }
        guard !HostPathPolicy.components(path).contains("..") else {
            throw CapstanError(.invalidArgument, "\(field) '\(path)' must not contain '..'")
        }
        guard !HostPathPolicy.components(path).isEmpty else {
            throw CapstanError(.invalidArgument, "\(field) '\(path)' names the sandbox itself")
        }
    }

    /// Makes `path` (a directory, or an empty file) in `sandbox`, each component opened without following symlinks;
    /// returns its host path.
    static func make(_ path: String, in sandbox: String, directory: Bool, field: String) throws(CapstanError) -> String {
        try check(path, field: field)
        let components = HostPathPolicy.components(path)
        var fd = open(sandbox, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw CapstanError.system("cannot open the sandbox \(sandbox)", errno: errno) }
        defer { close(fd) }
        for (index, component) in components.enumerated() {
            let last = index == components.count - 1
            if last && !directory {
                let file = openat(fd, component, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
                guard file >= 0 else { throw CapstanError.system("\(field) '\(path)': cannot create '\(component)' in the sandbox", errno: errno) }
                close(file)
                break
            }
            if mkdirat(fd, component, 0o755) != 0 && errno != EEXIST {
                throw CapstanError.system("\(field) '\(path)': cannot create '\(component)' in the sandbox", errno: errno)
            }
            let next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else {
                throw CapstanError(.permissionDenied, "\(field) '\(path)': '\(component)' in the sandbox is a symlink or not a directory")
            }
            close(fd)
            fd = next
        }
        return sandbox + "/" + components.joined(separator: "/")
    }
}
