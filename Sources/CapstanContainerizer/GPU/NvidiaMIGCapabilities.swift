import CapstanCore
import Foundation

/// The MIG capability nodes of the GPUs a container holds (`/dev/nvidia-caps/nvidia-cap<minor>`): without the
/// `access` capability of a GPU instance and of its compute instances, CUDA and NVML cannot use the MIG devices of a
/// GPU in MIG mode. Their minors come from `/proc/driver/nvidia-caps/mig-minors`, their major is `nvidia-caps` in
/// `/proc/devices`.
///
/// A container holds whole GPUs, so it gets the access capabilities of every GPU instance and compute instance the
/// driver lists for its GPUs (those made later included), and never `config` or `monitor`, which reach every GPU of
/// the machine.
public struct NvidiaMIGCapabilities: Sendable, Equatable {
    /// Where the driver lists the capability minors.
    public static let migMinorsPath = "/proc/driver/nvidia-caps/mig-minors"
    /// Where the nodes are, in the container and on the host.
    public static let directory = "/dev/nvidia-caps"

    /// One `access` capability: of GPU instance `gpuInstance` of the GPU with device minor `gpu`, or of its compute
    /// instance `computeInstance`.
    public struct Access: Sendable, Hashable {
        public var gpu: Int
        public var gpuInstance: Int
        public var computeInstance: Int?
        public var minor: Int

        public init(gpu: Int, gpuInstance: Int, computeInstance: Int? = nil, minor: Int) {
            self.gpu = gpu
            self.gpuInstance = gpuInstance
            self.computeInstance = computeInstance
            self.minor = minor
        }
    }

    /// Every access capability listed, in file order.
    public var access: [Access]
    /// The `config` capability's minor (reconfigures MIG on any GPU).
    public var config: Int?
    /// The `monitor` capability's minor (reads every MIG device of the machine).
    public var monitor: Int?

    public init(access: [Access] = [], config: Int? = nil, monitor: Int? = nil) {
        self.access = access
        self.config = config
        self.monitor = monitor
    }

    /// Parses `mig-minors`: lines `config 1`, `monitor 2`, `gpu0/gi1/access 12`, `gpu0/gi1/ci0/access 13`. Lines of
    /// any other shape are left out (a newer driver may list more).
    public init(parsing text: String) {
        self.init()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 2, let minor = Int(fields[1]), minor >= 0 else { continue }
            let name = fields[0]
            if name == "config" { config = minor; continue }
            if name == "monitor" { monitor = minor; continue }
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.last == "access", parts.count == 3 || parts.count == 4,
                let gpu = Self.number(parts[0], prefix: "gpu"), let gi = Self.number(parts[1], prefix: "gi")
            else { continue }
            if parts.count == 3 {
                access.append(Access(gpu: gpu, gpuInstance: gi, minor: minor))
            } else if let ci = Self.number(parts[2], prefix: "ci") {
                access.append(Access(gpu: gpu, gpuInstance: gi, computeInstance: ci, minor: minor))
            }
        }
    }

    /// The capability nodes a container holding `gpus` gets: for each GPU in MIG mode (one with MIG devices), the
    /// access capabilities of its instances, read-only; none when the driver registered no `nvidia-caps` major.
    public func nodes(gpus: [GPUDevice], procDevices: String) -> [DeviceNodeSpec] {
        guard let major = NvidiaDeviceNodes.characterMajor(named: "nvidia-caps", in: procDevices) else { return [] }
        let migMinors = Set(gpus.filter { !$0.migDevices.isEmpty }.map(\.minor))
        guard !migMinors.isEmpty else { return [] }
        var seen: Set<Int> = []
        return access.filter { migMinors.contains($0.gpu) && seen.insert($0.minor).inserted }.map {
            DeviceNodeSpec(path: Self.path(minor: $0.minor), major: major, minor: $0.minor, access: [.read, .mknod], fileMode: 0o444)
        }
    }

    /// `/dev/nvidia-caps/nvidia-cap<minor>`
    public static func path(minor: Int) -> String { "\(directory)/nvidia-cap\(minor)" }

    private static func number(_ text: Substring, prefix: String) -> Int? {
        guard text.hasPrefix(prefix) else { return nil }
        return Int(text.dropFirst(prefix.count)).flatMap { $0 >= 0 ? $0 : nil }
    }
}
