import CapstanCore
import Foundation

/// An activated Docker volume plugin (one that lists `VolumeDriver` in its `Implements`): the `VolumeDriver.*`
/// calls, each answered or thrown as ``DockerPluginClient`` says. Mountpoints come back as the plugin sent them;
/// ``DockerVolumeMounts`` checks them before use.
public struct DockerVolumeDriver: Sendable {
    public let plugin: DockerPluginClient
    public var name: DockerPluginName { plugin.name }

    init(plugin: DockerPluginClient) { self.plugin = plugin }

    /// What `VolumeDriver.Get` says about a volume.
    public struct Volume: Sendable, Decodable, Equatable {
        public var Name: String
        public var Mountpoint: String?
    }

    /// A volume's scope, from `VolumeDriver.Capabilities`.
    public enum Scope: String, Sendable { case local, global }

    private struct NameRequest: Encodable { var Name: String }
    private struct NameIDRequest: Encodable {
        var Name: String
        var ID: String
    }
    private struct CreateRequest: Encodable {
        var Name: String
        var Opts: [String: String]
    }
    private struct Empty: Encodable {}
    private struct MountpointAnswer: Decodable { var Mountpoint: String? }
    private struct GetAnswer: Decodable { var Volume: Volume? }
    private struct ErrAnswer: Decodable {}
    private struct CapabilitiesAnswer: Decodable {
        struct Capabilities: Decodable { var Scope: String? }
        var Capabilities: Capabilities?
    }

    /// `VolumeDriver.Create {Name, Opts}`.
    public func create(_ volume: DockerVolumeName, options: [String: String]) async throws {
        _ = try await plugin.call(
            "VolumeDriver.Create", CreateRequest(Name: volume.value, Opts: options), volume: volume.value, as: ErrAnswer.self)
    }

    /// `VolumeDriver.Remove {Name}`.
    public func remove(_ volume: DockerVolumeName) async throws {
        _ = try await plugin.call("VolumeDriver.Remove", NameRequest(Name: volume.value), volume: volume.value, as: ErrAnswer.self)
    }

    /// `VolumeDriver.Mount {Name, ID}`: the mountpoint on the host. `id` identifies this mount to the plugin, which
    /// counts Mounts and Unmounts per ID.
    public func mount(_ volume: DockerVolumeName, id: String) async throws -> String {
        let answer = try await plugin.call(
            "VolumeDriver.Mount", NameIDRequest(Name: volume.value, ID: id), volume: volume.value, as: MountpointAnswer.self)
        guard let mountpoint = answer.Mountpoint, !mountpoint.isEmpty else {
            throw CapstanError(
                .failedPrecondition, "Docker volume plugin '\(name)' answered VolumeDriver.Mount of volume '\(volume)' without a Mountpoint"
            )
        }
        return mountpoint
    }

    /// `VolumeDriver.Unmount {Name, ID}` with the ID its Mount used.
    public func unmount(_ volume: DockerVolumeName, id: String) async throws {
        _ = try await plugin.call(
            "VolumeDriver.Unmount", NameIDRequest(Name: volume.value, ID: id), volume: volume.value, as: ErrAnswer.self)
    }

    /// `VolumeDriver.Path {Name}`: where the volume is mounted, or nil when the plugin says it is not.
    public func path(_ volume: DockerVolumeName) async throws -> String? {
        let answer = try await plugin.call(
            "VolumeDriver.Path", NameRequest(Name: volume.value), volume: volume.value, as: MountpointAnswer.self)
        return answer.Mountpoint.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `VolumeDriver.Get {Name}`: the volume, or nil when the plugin answered without one; a plugin that does not
    /// know the volume answers with an `Err` (thrown as ``DockerVolumePluginError``).
    public func get(_ volume: DockerVolumeName) async throws -> Volume? {
        try await plugin.call("VolumeDriver.Get", NameRequest(Name: volume.value), volume: volume.value, as: GetAnswer.self).Volume
    }

    /// `VolumeDriver.Capabilities`: the scope, or nil when the plugin does not implement the call (a 404) or names
    /// none. Docker treats both as `local`.
    public func capabilities() async throws -> Scope? {
        guard let answer = try await plugin.callOptional("VolumeDriver.Capabilities", Empty(), as: CapabilitiesAnswer.self) else {
            return nil
        }
        return answer.Capabilities?.Scope.flatMap(Scope.init(rawValue:))
    }

    /// Makes sure the volume exists: `Get`, and `Create` when the plugin does not know it (or does not implement
    /// `Get`). Plugins differ on a `Create` of an existing volume ("volume already exists" from some), so an existing
    /// one is not created again.
    public func ensure(_ volume: DockerVolumeName, options: [String: String]) async throws {
        do {
            if try await plugin.callOptional("VolumeDriver.Get", NameRequest(Name: volume.value), volume: volume.value, as: GetAnswer.self)?
                .Volume != nil
            {
                return
            }
        } catch is DockerVolumePluginError {
            // Not known to the plugin: create it below.
        }
        try await create(volume, options: options)
    }
}
