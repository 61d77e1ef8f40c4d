import CapstanCore
import Foundation
import Glibc
public import Logging

/// The NVIDIA driver volume (as Mesos 1.0's `NvidiaVolume`): a directory under the agent's work dir holding copies of
/// the driver's user-space utilities (`bin/`) and libraries (`lib64/`), made once per driver version and mounted
/// read-only at `/usr/local/nvidia` into image containers that ask for it (``NvidiaDriverFiles/wantsVolume``).
///
/// Copies, not bind mounts of the host's files: a container keeps the files of the driver the agent started with, and
/// sees nothing else of the host's library directories.
public struct NvidiaDriverVolume: Sendable, Hashable {
    /// The host directory: `<work-dir>/gpu/nvidia-driver-<version>`.
    public var directory: String
    /// The driver version (NVML's `nvmlSystemGetDriverVersion`).
    public var version: String

    public init(directory: String, version: String) {
        self.directory = directory
        self.version = version
    }

    /// The read-only mount an image container gets.
    public var mount: BindMountSpec { BindMountSpec(source: directory, target: NvidiaDriverFiles.containerPath, readOnly: true) }

    /// Where the driver's files are looked for.
    public enum Source: Sendable, Hashable {
        /// `--nvidia-driver-dir`: `DIR/bin` for the utilities, each `DIR/lib*` directory for the libraries.
        case root(String)
        /// The host: the utilities on `PATH`; the libraries in the directory NVML was loaded from (when the NVML
        /// library was given as a path) and those `ldconfig -p` lists.
        case host(nvmlLibrary: String, path: String)
    }

    /// Makes (or reuses, when a complete one exists) the volume of driver `version` under `workDir`.
    ///
    /// The directory is filled beside its final name and renamed into place, so an existing one is complete. Blocking.
    /// - Throws: ``CapstanError`` `.invalidArgument` for a version that cannot name a directory; `.internal` naming
    ///   the file that could not be copied.
    public static func make(workDir: String, version: String, source: Source, logger: Logger) throws -> NvidiaDriverVolume {
        guard !version.isEmpty, version.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }), version != ".", version != ".." else {
            throw CapstanError(.invalidArgument, "gpu/nvidia: the driver version '\(version)' NVML reports cannot name a directory")
        }
        let parent = workDir + "/gpu"
        let directory = parent + "/nvidia-driver-\(version)"
        let volume = NvidiaDriverVolume(directory: directory, version: version)
        let files = FileManager.default
        if files.fileExists(atPath: directory) { return volume }
        let staging = directory + ".tmp-\(getpid())"
        try? files.removeItem(atPath: staging)
        do {
            try files.createDirectory(atPath: staging + "/bin", withIntermediateDirectories: true)
            try files.createDirectory(atPath: staging + "/lib64", withIntermediateDirectories: true)
            let binaries = Self.binaries(source)
            for (name, path) in binaries {
                try copy(path, named: name, into: staging + "/bin")
                _ = chmod(staging + "/bin/" + name, 0o755)
            }
            let libraries = Self.libraries(source, logger: logger)
            for (name, path) in libraries { try copy(path, named: name, into: staging + "/lib64") }
            guard rename(staging, directory) == 0 else {
                throw CapstanError(.internal, "gpu/nvidia: cannot rename \(staging) to \(directory): \(String(cString: strerror(errno)))")
            }
            logger.info(
                "gpu/nvidia: driver volume made", metadata: [
                    "directory": "\(directory)", "binaries": "\(binaries.map(\.name).joined(separator: ","))",
                    "libraries": "\(libraries.count)",
                ])
            return volume
        } catch {
            try? files.removeItem(atPath: staging)
            if let error = error as? CapstanError { throw error }
            throw CapstanError(.internal, "gpu/nvidia: cannot make the driver volume \(directory): \(error)", cause: error)
        }
    }

    /// The utilities found, as `(name, path)`.
    static func binaries(_ source: Source) -> [(name: String, path: String)] {
        let directories: [String]
        switch source {
        case .root(let root): directories = [root + "/bin"]
        case .host(_, let path): directories = path.split(separator: ":").map(String.init).filter { $0.hasPrefix("/") }
        }
        return NvidiaDriverFiles.binaries.compactMap { name in
            directories.lazy.map { $0 + "/" + name }.first { access($0, X_OK) == 0 }.map { (name, $0) }
        }
    }

    /// The libraries found, each name once (the first directory that has it wins), as `(name, path)`.
    static func libraries(_ source: Source, logger: Logger) -> [(name: String, path: String)] {
        var found: [(name: String, path: String)] = []
        var seen: Set<String> = []
        func add(_ name: String, _ path: String) {
            guard NvidiaDriverFiles.isDriverLibrary(name), !seen.contains(name) else { return }
            seen.insert(name)
            found.append((name, path))
        }
        func scan(_ directory: String) {
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() { add(name, directory + "/" + name) }
        }
        switch source {
        case .root(let root):
            let entries = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted()
            for entry in entries where entry.hasPrefix("lib") { scan(root + "/" + entry) }
        case .host(let nvmlLibrary, _):
            if nvmlLibrary.contains("/") { scan(URL(fileURLWithPath: nvmlLibrary).deletingLastPathComponent().path) }
            for (name, path) in NvidiaDriverFiles.libraries(inLdconfigCache: ldconfigCache(logger: logger)) { add(name, path) }
        }
        return found
    }

    /// `ldconfig -p`, or "" when no ldconfig runs.
    private static func ldconfigCache(logger: Logger) -> String {
        for path in ["/sbin/ldconfig", "/usr/sbin/ldconfig"] where access(path, X_OK) == 0 {
            guard let outcome = try? HostProgram.run(path, arguments: ["-p"], timeout: .seconds(30)), outcome.status == 0 else { continue }
            return String(decoding: outcome.stdout, as: UTF8.self)
        }
        logger.warning("gpu/nvidia: no ldconfig to list the driver's libraries; the driver volume has only what --nvidia-driver-dir or NVML's directory holds")
        return ""
    }

    /// Copies the file `path` resolves to into `directory` under its own name, and links `name` to it when the names
    /// differ (`libcuda.so.1 -> libcuda.so.535.104.05`), as the driver's installer lays them out.
    private static func copy(_ path: String, named name: String, into directory: String) throws {
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let realName = URL(fileURLWithPath: resolved).lastPathComponent
        let files = FileManager.default
        let target = directory + "/" + realName
        if !files.fileExists(atPath: target) {
            do { try files.copyItem(atPath: resolved, toPath: target) } catch {
                throw CapstanError(.internal, "gpu/nvidia: cannot copy \(resolved) into the driver volume \(directory): \(error)", cause: error)
            }
        }
        guard realName != name, (try? files.destinationOfSymbolicLink(atPath: directory + "/" + name)) == nil,
            !files.fileExists(atPath: directory + "/" + name)
        else { return }
        try files.createSymbolicLink(atPath: directory + "/" + name, withDestinationPath: realName)
    }
}
