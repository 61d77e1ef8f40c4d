import CapstanLinux
import CLinux
public import CapstanCore
import CapstanInitSpec
import Foundation
import Glibc
import Synchronization

/// How a container's root filesystem is assembled, as a value (mounted later by `capstan-init` in the container's
/// own mount namespace, so it never appears, or lingers, in the agent's).
public struct RootfsPlan: Sendable, Hashable {
    /// Which mechanism.
    public enum Backend: String, Sendable, Hashable {
        /// overlayfs: layers read-only, writes in `upperDirectory`.
        case overlay
        /// A private copy of the layers, bind-mounted.
        case copy
        /// A plain directory, bind-mounted as it is.
        case directory
    }

    public var backend: Backend
    /// Layers bottom-first (overlay), the copy (copy), or the directory (directory).
    public var lowerDirectories: [String]
    /// Overlay only.
    public var upperDirectory: String?
    public var workDirectory: String?
    /// Empty directory where the root is assembled.
    public var mountPoint: String

    /// The part `capstan-init` needs.
    var initRootfs: InitSpec.Rootfs {
        InitSpec.Rootfs(
            mode: backend == .overlay ? .overlay : .bind, lowerDirectories: lowerDirectories, upperDirectory: upperDirectory,
            workDirectory: workDirectory, mountPoint: mountPoint)
    }
}

/// Plans (and for the copy backend, builds) root filesystems under a container's state directory:
/// `<state>/rootfs` (mount point), `<state>/upper`, `<state>/work` (overlay) or `<state>/copy` (copy).
public struct OverlayProvisioner: Sendable {
    /// Which backend `layers` get.
    public enum Preference: String, Sendable {
        /// overlay when the kernel and the work dir's filesystem allow it, else copy.
        case automatic
        case overlay
        case copy
    }

    private let preference: Preference
    private let probe = LockedBox<Bool?>(nil)

    /// Creates a provisioner.
    public init(preference: Preference = .automatic) {
        self.preference = preference
    }

    /// Where an overlay rootfs planned in `stateDirectory` takes the container's writes.
    public static func upperDirectory(stateDirectory: String) -> String { stateDirectory + "/upper" }

    /// The plan for `spec` in `stateDirectory` (which exists). Pure apart from the one-time overlay probe.
    public func plan(_ spec: RootfsSpec, stateDirectory: String) -> RootfsPlan {
        let mountPoint = stateDirectory + "/rootfs"
        switch spec {
        case .directory(let path):
            return RootfsPlan(backend: .directory, lowerDirectories: [path], mountPoint: mountPoint)
        case .layers(let layers):
            let overlay: Bool
            switch preference {
            case .overlay: overlay = true
            case .copy: overlay = false
            case .automatic: overlay = overlaySupported(scratch: stateDirectory)
            }
            if overlay {
                return RootfsPlan(
                    backend: .overlay, lowerDirectories: layers, upperDirectory: Self.upperDirectory(stateDirectory: stateDirectory),
                    workDirectory: stateDirectory + "/work", mountPoint: mountPoint)
            }
            return RootfsPlan(backend: .copy, lowerDirectories: [stateDirectory + "/copy"], mountPoint: mountPoint)
        }
    }

    /// Creates the plan's directories and, for the copy backend, copies the layers (bottom-first, honouring
    /// overlay-style whiteouts). Blocking: call on a dedicated thread.
    /// - Throws: ``CapstanError`` naming the step, e.g. `Failed to provision the rootfs: mkdir '…': … (errno 13)`.
    func materialize(_ plan: RootfsPlan, layers: [String]) throws {
        for layer in layers where !layer.hasPrefix("/") {
            throw CapstanError(.invalidArgument, "Failed to provision the rootfs: layer '\(layer)' is not an absolute path")
        }
        for directory in [plan.mountPoint, plan.upperDirectory, plan.workDirectory].compactMap({ $0 }) {
            try makeDirectory(directory)
        }
        for layer in plan.backend == .directory ? plan.lowerDirectories : layers {
            var info = stat()
            if stat(layer, &info) != 0 { throw CapstanError.system("Failed to provision the rootfs: stat '\(layer)'", errno: errno) }
        }
        guard plan.backend == .copy, let copy = plan.lowerDirectories.first else { return }
        try makeDirectory(copy)
        for layer in layers {
            try removeWhiteouts(of: layer, in: copy)
            try runCopy(from: layer, to: copy)
        }
    }

    /// Whether an overlay can be mounted with upper and work dirs next to `scratch` (probed once, by mounting one
    /// in the agent's namespace and unmounting it at once).
    func overlaySupported(scratch: String) -> Bool {
        if let known = probe.withLock({ $0 }) { return known }
        let base = scratch + "/.overlay-probe"
        let dirs = ["lower", "upper", "work", "merged"].map { base + "/" + $0 }
        var supported = false
        if (try? dirs.forEach(makeDirectory)) != nil {
            let options = "lowerdir=\(dirs[0]),upperdir=\(dirs[1]),workdir=\(dirs[2])"
            if mount("overlay", dirs[3], "overlay", 0, options) == 0 {
                supported = true
                umount2(dirs[3], Int32(MNT_DETACH))
            }
        }
        try? FileManager.default.removeItem(atPath: base)
        probe.withLock { $0 = supported }
        return supported
    }

    private func makeDirectory(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw CapstanError(.internal, "Failed to provision the rootfs: mkdir '\(path)': \(error)")
        }
    }

    /// Applies what `layer` hides of the layers below it to the copy made so far, as overlayfs would: an opaque
    /// directory (`trusted.overlay.opaque=y`, or an OCI `.wh..wh..opq` marker in it) is emptied; a whiteout (a 0:0
    /// character device, or an OCI `.wh.NAME` file) removes its name.
    private func removeWhiteouts(of layer: String, in copy: String) throws {
        guard let walker = FileManager.default.enumerator(atPath: layer) else { return }
        var opaque: [String] = []
        var hidden: [String] = []
        while let relative = walker.nextObject() as? String {
            var info = stat()
            guard lstat(layer + "/" + relative, &info) == 0 else { continue }
            // Split by hand: NSString's path methods trap on some one-letter names on this Foundation.
            let slash = relative.lastIndex(of: "/")
            let name = slash.map { String(relative[relative.index(after: $0)...]) } ?? relative
            let parent = slash.map { String(relative[..<$0]) } ?? ""
            switch info.st_mode & S_IFMT {
            case S_IFDIR where Self.isOpaque(layer + "/" + relative): opaque.append(relative)
            case S_IFCHR where info.st_rdev == 0: hidden.append(relative)
            default:
                if name == ".wh..wh..opq" {
                    opaque.append(parent)
                } else if name.hasPrefix(".wh.") {
                    hidden.append((parent.isEmpty ? "" : parent + "/") + String(name.dropFirst(4)))
                }
            }
        }
        for directory in opaque {
            let target = copy + (directory.isEmpty ? "" : "/" + directory)
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: target)) ?? [] {
                try remove(target + "/" + entry)
            }
        }
        for path in hidden { try remove(copy + "/" + path) }
    }

    /// Whether overlayfs treats `directory` as opaque (`trusted.overlay.opaque` is `y`).
    private static func isOpaque(_ directory: String) -> Bool {
        var value: [UInt8] = [0, 0]
        let size = lgetxattr(directory, "trusted.overlay.opaque", &value, value.count)
        return size == 1 && value[0] == UInt8(ascii: "y")
    }

    /// Removes a file or a tree of the copy; a missing one is fine.
    private func remove(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        do { try FileManager.default.removeItem(atPath: path) } catch {
            throw CapstanError(.internal, "Failed to provision the rootfs: remove '\(path)' for a whiteout: \(error)")
        }
    }

    /// `cp -a layer/. copy/`, then drops the whiteout markers that came along.
    private func runCopy(from layer: String, to copy: String) throws {
        var request = SpawnRequest(
            path: "/bin/cp", arguments: ["cp", "-a", "--", layer + "/.", copy + "/"], environment: ["PATH=/usr/bin:/bin"])
        request.newSession = false
        let child = try Spawner.spawn(request)
        var code: Int32 = -1
        var signal: Int32 = -1
        let err = capstan_reap(child.pid, &code, &signal)
        if err != 0 { throw CapstanError.system("Failed to provision the rootfs: waitpid for cp", errno: err) }
        if code != 0 {
            throw CapstanError(.internal, "Failed to provision the rootfs: cp -a '\(layer)' exited with \(code >= 0 ? "status \(code)" : "signal \(signal)")")
        }
        guard let walker = FileManager.default.enumerator(atPath: copy) else { return }
        var markers: [String] = []
        while let relative = walker.nextObject() as? String {
            var info = stat()
            guard lstat(copy + "/" + relative, &info) == 0 else { continue }
            let name = relative.split(separator: "/").last.map(String.init) ?? relative
            if ((info.st_mode & S_IFMT) == S_IFCHR && info.st_rdev == 0) || name.hasPrefix(".wh.") { markers.append(relative) }
        }
        for marker in markers { try? FileManager.default.removeItem(atPath: copy + "/" + marker) }
    }
}

/// A `Mutex` in a class, for state shared by copies of a struct.
final class LockedBox<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        try mutex.withLock { try body(&$0) }
    }
}
