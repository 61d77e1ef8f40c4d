import Foundation

/// Which of the NVIDIA driver's user-space files go into the driver volume (as Mesos 1.0's `NvidiaVolume`), and
/// which containers get the volume. Pure: the scanning and copying are ``NvidiaDriverVolume``'s.
public enum NvidiaDriverFiles {
    /// Where image containers see the volume (the path the CUDA images put on PATH and LD_LIBRARY_PATH).
    public static let containerPath = "/usr/local/nvidia"

    /// The image label that asks for the volume, and its value.
    public static let volumeLabel = (key: "com.nvidia.volumes.needed", value: "nvidia_driver")

    /// The driver's utilities copied into `bin/`.
    public static let binaries = [
        "nvidia-smi", "nvidia-debugdump", "nvidia-persistenced", "nvidia-cuda-mps-control", "nvidia-cuda-mps-server",
    ]

    /// The library stems copied into `lib64/`: every `STEM.so` and `STEM.so.*`.
    public static let libraryStems = [
        // Utility and compute.
        "libnvidia-ml", "libnvidia-cfg", "libcuda", "libcudadebugger", "libnvidia-ptxjitcompiler", "libnvidia-fatbinaryloader",
        "libnvidia-opencl", "libnvidia-compiler", "libnvidia-nvvm", "libnvidia-allocator", "libnvidia-pkcs11",
        // Video.
        "libvdpau_nvidia", "libnvidia-encode", "libnvcuvid", "libnvidia-opticalflow",
        // Graphics.
        "libnvidia-eglcore", "libnvidia-glcore", "libnvidia-tls", "libnvidia-glsi", "libnvidia-fbc", "libnvidia-ifr",
        "libnvidia-rtcore", "libnvoptix", "libnvidia-glvkspirv", "libnvidia-gpucomp",
        "libGLX_nvidia", "libEGL_nvidia", "libGLESv2_nvidia", "libGLESv1_CM_nvidia",
    ]

    /// Whether `fileName` is one of the driver's libraries (`libcuda.so`, `libcuda.so.1`, `libcuda.so.535.104.05`).
    public static func isDriverLibrary(_ fileName: String) -> Bool {
        libraryStems.contains { stem in fileName == stem + ".so" || fileName.hasPrefix(stem + ".so.") }
    }

    /// Whether a container launched with `config`, holding `gpus` GPUs, gets the volume: it runs from an image whose
    /// config has the label `com.nvidia.volumes.needed=nvidia_driver` or sets `NVIDIA_VISIBLE_DEVICES`, and it holds
    /// a GPU. Command tasks (no image) see the host's driver and get none.
    public static func wantsVolume(imageConfig: ImageProcessConfig?, hasRootfs: Bool, gpus: Int) -> Bool {
        guard hasRootfs, gpus > 0, let imageConfig else { return false }
        if imageConfig.labels?[volumeLabel.key] == volumeLabel.value { return true }
        return imageConfig.env.contains { $0.hasPrefix("NVIDIA_VISIBLE_DEVICES=") }
    }

    /// The 64-bit libraries in `ldconfig -p` output whose file names are driver libraries, as `(name, path)`.
    ///
    /// Lines read `\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1`; entries whose flags do
    /// not name a 64-bit ABI (`x86-64`, `AArch64`, `64bit`) are 32-bit and left out.
    public static func libraries(inLdconfigCache text: String) -> [(name: String, path: String)] {
        var found: [(name: String, path: String)] = []
        for line in text.split(separator: "\n") {
            guard let arrow = line.range(of: " => ") else { continue }
            let head = line[..<arrow.lowerBound].trimmingCharacters(in: .whitespaces)
            let path = line[arrow.upperBound...].trimmingCharacters(in: .whitespaces)
            guard let open = head.firstIndex(of: "("), head.hasSuffix(")") else { continue }
            let name = head[..<open].trimmingCharacters(in: .whitespaces)
            let flags = head[head.index(after: open)..<head.index(before: head.endIndex)]
            guard flags.contains("64"), path.hasPrefix("/"), isDriverLibrary(name) else { continue }
            found.append((name, path))
        }
        return found
    }
}
