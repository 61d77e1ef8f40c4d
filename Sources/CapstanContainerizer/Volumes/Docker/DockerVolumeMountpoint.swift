import CapstanCore
import Foundation
import Glibc

/// The check a plugin's `Mountpoint` passes before a container gets it. The path must be absolute, without NUL and
/// without `.` or `..` components; it is resolved with `realpath(3)` (so a symlink the plugin returned, or one on the
/// way, is followed once, here, and the container is given the resolved path, which a later swap of the symlink
/// cannot redirect); the resolved path must be an existing directory and not `/` itself. Blocking: run it through
/// `Blocking.run`.
enum DockerVolumeMountpoint {
    static func check(_ mountpoint: String, plugin: DockerPluginName, volume: DockerVolumeName) throws(CapstanError) -> String {
        func refuse(_ problem: String) -> CapstanError {
            CapstanError(
                .failedPrecondition,
                "Docker volume plugin '\(plugin)' answered VolumeDriver.Mount of volume '\(volume)' with mountpoint '\(IdentifierRule.printable(mountpoint))', which \(problem)"
            )
        }
        guard mountpoint.hasPrefix("/") else { throw refuse("is not an absolute path") }
        guard !mountpoint.utf8.contains(0) else { throw refuse("contains a NUL byte") }
        guard !mountpoint.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) else {
            throw refuse("has a '.' or '..' component")
        }
        guard let resolved = HostPaths.real(mountpoint) else {
            throw refuse("cannot be resolved: \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard stat(resolved, &info) == 0 else { throw refuse("cannot be examined: \(String(cString: strerror(errno)))") }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw refuse("is not a directory") }
        guard resolved != "/" else { throw refuse("is the host's root directory") }
        return resolved
    }
}
