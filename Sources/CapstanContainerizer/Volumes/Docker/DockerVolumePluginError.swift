import CapstanCore

/// A Docker plugin answered a call with an error (`{"Err": "…"}`, whatever the HTTP status): the call reached the
/// plugin and was refused, so it is not retried. `err` is the plugin's text, verbatim; the description names the
/// plugin, the call and the volume, for a task's status message.
public struct DockerVolumePluginError: Error, Sendable, CustomStringConvertible, Equatable {
    public var plugin: DockerPluginName
    /// The call, as `VolumeDriver.Mount`.
    public var call: String
    /// The volume the call was about; nil for `Plugin.Activate` and `VolumeDriver.Capabilities`.
    public var volume: String?
    /// The plugin's `Err`, exactly as it sent it.
    public var err: String

    public init(plugin: DockerPluginName, call: String, volume: String?, err: String) {
        self.plugin = plugin
        self.call = call
        self.volume = volume
        self.err = err
    }

    public var description: String {
        "Docker volume plugin '\(plugin)' failed \(call)\(volume.map { " of volume '\($0)'" } ?? ""): \(err)"
    }
}
