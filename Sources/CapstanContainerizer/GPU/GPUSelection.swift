public import CapstanCore
import Foundation

/// Which GPUs an agent offers, decided as Mesos 1.0's `gpu/nvidia` isolator does: with the isolator on and neither
/// `--nvidia-gpu-devices` nor `gpus` in `--resources`, every GPU NVML reports; otherwise both must be given, and agree.
public enum GPUSelection {
    /// The GPUs to offer (`gpus` is their count, whole GPUs only).
    ///
    /// - Parameters:
    ///   - isolated: `gpu/nvidia` is among the isolators.
    ///   - devices: `--nvidia-gpu-devices` as NVML indices; nil when the flag is absent.
    ///   - requested: `gpus` in `--resources`; nil when absent.
    ///   - inventory: what NVML reports; asked only when `isolated`.
    /// - Throws: `invalidArgument` naming the flags that disagree, or NVML's error.
    public static func choose(
        isolated: Bool, devices: [Int]?, requested: Double?, inventory: () throws(CapstanError) -> GPUInventory
    ) throws(CapstanError) -> [GPUDevice] {
        guard isolated else {
            if let requested, requested > 0 {
                throw CapstanError(.invalidArgument, "--resources offers gpus:\(Self.text(requested)), which needs gpu/nvidia in --isolation (and the NVIDIA driver)")
            }
            if devices != nil { throw CapstanError(.invalidArgument, "--nvidia-gpu-devices needs gpu/nvidia in --isolation") }
            return []
        }
        let available = try inventory().devices
        switch (devices, requested) {
        case (nil, nil):
            return available
        case (nil, .some(let requested)):
            throw CapstanError(
                .invalidArgument,
                "--resources offers gpus:\(Self.text(requested)) without --nvidia-gpu-devices: give both (which GPUs, and as many gpus), or neither to offer all \(available.count)")
        case (.some(let devices), nil):
            throw CapstanError(
                .invalidArgument,
                "--nvidia-gpu-devices names \(devices.count) GPU(s) but --resources has no gpus: give both (e.g. gpus:\(devices.count)), or neither to offer all \(available.count)")
        case (.some(let devices), .some(let requested)):
            guard requested == requested.rounded(.down), requested >= 0 else {
                throw CapstanError(.invalidArgument, "--resources gpus:\(Self.text(requested)): GPUs are offered whole; give a whole number")
            }
            guard Set(devices).count == devices.count else {
                throw CapstanError(.invalidArgument, "--nvidia-gpu-devices \(devices.map(String.init).joined(separator: ",")) names a GPU twice")
            }
            var chosen: [GPUDevice] = []
            for index in devices {
                guard let device = available.first(where: { $0.index == index }) else {
                    throw CapstanError(
                        .invalidArgument,
                        "--nvidia-gpu-devices: this machine has no GPU \(index) (NVML reports \(available.map { "\($0.index)" }.joined(separator: ", ").nonEmpty ?? "none"))")
                }
                chosen.append(device)
            }
            guard Int(requested) == chosen.count else {
                throw CapstanError(
                    .invalidArgument,
                    "--resources gpus:\(Self.text(requested)) must equal the \(chosen.count) GPU(s) of --nvidia-gpu-devices")
            }
            return chosen
        }
    }

    /// Parses `--nvidia-gpu-devices` (`0,1,3`).
    public static func parseDevices(_ text: String) throws(CapstanError) -> [Int] {
        var indices: [Int] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = item.trimmingCharacters(in: .whitespaces)
            guard let index = Int(trimmed), index >= 0, index < 256 else {
                throw CapstanError(.invalidArgument, "--nvidia-gpu-devices '\(text)': '\(trimmed)' is not a GPU index (0-255)")
            }
            indices.append(index)
        }
        return indices
    }

    private static func text(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
