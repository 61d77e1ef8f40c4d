import Foundation

/// The NVIDIA device nodes of a container's GPUs (as Mesos 1.0's `gpu/nvidia`): nvidiactl, each GPU's
/// `/dev/nvidiaN`, and the unified-memory nodes when the driver registered them. The ``DevicesIsolator`` allows
/// exactly these beside its defaults.
public enum NvidiaDeviceNodes {
    /// The NVIDIA character major of `/dev/nvidiaN` and `/dev/nvidiactl`.
    public static let nvidiaMajor = 195
    /// `/dev/nvidiactl`'s minor.
    public static let nvidiactlMinor = 255

    /// The device nodes a container holding `gpus` sees in its own `/dev` (image containers): nvidiactl and each
    /// GPU's `/dev/nvidiaN`, plus `/dev/nvidia-uvm` (minor 0) and `/dev/nvidia-uvm-tools` (minor 1) when the driver
    /// registered their major.
    public static func nodes(gpus: [GPUDevice], procDevices: String) -> [DeviceNodeSpec] {
        guard !gpus.isEmpty else { return [] }
        var nodes = [DeviceNodeSpec(path: "/dev/nvidiactl", major: nvidiaMajor, minor: nvidiactlMinor)]
        nodes += gpus.map { DeviceNodeSpec(path: $0.devicePath, major: nvidiaMajor, minor: $0.minor) }
        if let uvm = characterMajor(named: "nvidia-uvm", in: procDevices) {
            nodes += [
                DeviceNodeSpec(path: "/dev/nvidia-uvm", major: uvm, minor: 0), DeviceNodeSpec(path: "/dev/nvidia-uvm-tools", major: uvm, minor: 1),
            ]
        }
        return nodes
    }

    /// The major `/proc/devices` lists for character device `name`, or nil.
    public static func characterMajor(named name: String, in procDevices: String) -> Int? {
        var inCharacter = false
        for line in procDevices.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("Character devices") { inCharacter = true; continue }
            if trimmed.hasPrefix("Block devices") { inCharacter = false; continue }
            guard inCharacter else { continue }
            let parts = trimmed.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count == 2, parts[1] == name, let major = Int(parts[0]) { return major }
        }
        return nil
    }
}

