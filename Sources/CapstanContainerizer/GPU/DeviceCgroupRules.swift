import Foundation

/// The cgroup v1 `devices.allow` lines of a container under `gpu/nvidia`: after `a` is written to `devices.deny`,
/// the default set every container needs plus the NVIDIA nodes of the GPUs it holds (as Mesos 1.0's
/// `cgroups/devices` with `gpu/nvidia`).
public enum DeviceCgroupRules {
    /// The NVIDIA character major of `/dev/nvidiaN` and `/dev/nvidiactl`.
    public static let nvidiaMajor = 195
    /// `/dev/nvidiactl`'s minor.
    public static let nvidiactlMinor = 255

    /// Mesos' default whitelist: mknod of any node (opening stays denied), null, zero, full, random, urandom, tty,
    /// console, ptmx, the pty slaves, tun and fuse.
    public static let defaults = [
        "c *:* m", "b *:* m",
        "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
        "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm",
        "c 10:200 rwm", "c 10:229 rwm",
    ]

    /// The allow lines for a container holding `gpus`: the defaults, then (with any GPU) nvidiactl, each GPU's
    /// `/dev/nvidiaN`, and `nvidia-uvm`/`nvidia-uvm-tools` when `/proc/devices` lists their major.
    public static func allowLines(gpus: [GPUDevice], procDevices: String) -> [String] {
        guard !gpus.isEmpty else { return defaults }
        var lines = defaults + ["c \(nvidiaMajor):\(nvidiactlMinor) rwm"]
        lines += gpus.map { "c \(nvidiaMajor):\($0.minor) rwm" }
        if let uvm = characterMajor(named: "nvidia-uvm", in: procDevices) { lines.append("c \(uvm):* rwm") }
        return lines
    }

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

/// A character device node made in a container's own `/dev` (image containers).
public struct DeviceNodeSpec: Sendable, Hashable, Codable {
    /// Absolute path inside the container, under `/dev`.
    public var path: String
    public var major: Int
    public var minor: Int

    /// Creates a node description.
    public init(path: String, major: Int, minor: Int) {
        self.path = path
        self.major = major
        self.minor = minor
    }
}
