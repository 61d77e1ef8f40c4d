/// A volume of a container: a host path or a directory of its own sandbox, mounted at a path in the container
/// (Mesos' `Volume` with `source.type` HOST_PATH or SANDBOX_PATH), read-only or read-write.
public struct ContainerVolume: Sendable, Hashable, Codable {
    public enum Source: Sendable, Hashable, Codable {
        /// An absolute host path, allowed only under the agent's `--allowed-host-paths`.
        case hostPath(String)
        /// A path relative to the container's own sandbox (created when missing).
        case sandboxPath(String)
        /// A persistent volume's directory, which the agent made (under its work dir, outside the host-path policy).
        case persistentVolume(String)
        /// A volume of a Docker volume plugin (Mesos' DOCKER_VOLUME), mounted once on the agent for all its users.
        case dockerVolume(driver: String, name: String, options: [String: String])
    }

    public var source: Source
    /// Absolute: a path in the container's root (with an image) or an existing host path (without one, where the
    /// mount covers it in the container's private mount namespace only). Relative: a path in the sandbox.
    public var containerPath: String
    /// Enforced by a read-only (recursive) mount, not a flag the task could ignore.
    public var readOnly: Bool

    public init(source: Source, containerPath: String, readOnly: Bool) {
        self.source = source
        self.containerPath = containerPath
        self.readOnly = readOnly
    }

    /// What the volume is, for messages: `host path '/srv/data' at '/data' (read-only)`.
    public var description: String {
        let what: String
        switch source {
        case .hostPath(let path): what = "host path '\(path)'"
        case .sandboxPath(let path): what = "sandbox path '\(path)'"
        case .persistentVolume(let path): what = "persistent volume '\(path)'"
        case .dockerVolume(let driver, let name, _): what = "Docker volume '\(name)' of driver '\(driver)'"
        }
        return "\(what) at '\(containerPath)'\(readOnly ? " (read-only)" : "")"
    }
}
