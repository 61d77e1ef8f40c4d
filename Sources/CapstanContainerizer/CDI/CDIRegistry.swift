public import CapstanCore
import Foundation

/// A spec file that loaded: where it came from and what it says.
public struct CDISpecFile: Sendable, Equatable {
    public var path: String
    /// The index of its directory in ``CDIRegistry/directories`` (higher wins).
    public var directoryIndex: Int
    public var spec: CDISpec

    public init(path: String, directoryIndex: Int, spec: CDISpec) {
        self.path = path
        self.directoryIndex = directoryIndex
        self.spec = spec
    }
}

/// A spec file (or directory) that could not be used, and why; the error's message starts with the path.
public struct CDISpecFileError: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var error: CapstanError

    public var description: String { error.message }
}

/// The CDI devices of a host: every `*.json`, `*.yaml` and `*.yml` file in a list of directories, by default
/// `/etc/cdi` then `/var/run/cdi`.
///
/// Precedence, as the CDI reference library orders it: a later directory wins, so a spec generated into
/// `/var/run/cdi` replaces a static one in `/etc/cdi` device by device. Within one directory files are read in
/// byte order of their names, and a device defined by two files of the same directory is a conflict: both files get
/// an error in ``errors``, and the device cannot be resolved (resolving it names both files) unless a later
/// directory defines it too, which settles it. A file that cannot be read or decoded is recorded in ``errors`` and skipped; the other files
/// still work. Subdirectories and other names are ignored; a missing directory is not an error.
public struct CDIRegistry: Sendable {
    /// `/etc/cdi` (static specs), then `/var/run/cdi` (generated specs, which win).
    public static let defaultDirectories = ["/etc/cdi", "/var/run/cdi"]

    /// The directories read, lowest priority first.
    public let directories: [String]
    /// The files that loaded, in reading order.
    public let specFiles: [CDISpecFile]
    /// Files and directories that could not be used, and device conflicts, in reading order.
    public let errors: [CDISpecFileError]

    enum Entry: Sendable {
        /// specFiles[file].spec.devices[device]
        case device(file: Int, device: Int)
        /// Two or more files of one directory define it.
        case conflict(paths: [String])
    }

    let entries: [CDIDeviceName: Entry]

    /// Reads the spec files of `directories` (blocking file I/O: call it from a dedicated thread at agent start).
    public static func load(directories: [String] = defaultDirectories, limits: CDILimits = .standard) -> CDIRegistry {
        var files: [CDISpecFile] = []
        var errors: [CDISpecFileError] = []
        for (index, directory) in directories.enumerated() {
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: directory)
            } catch {
                var isDirectory: ObjCBool = false
                if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) { continue }
                errors.append(CDISpecFileError(
                    path: directory,
                    error: CapstanError(.unavailable, "\(directory): cannot list the CDI spec directory", cause: error)))
                continue
            }
            for name in names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) where Self.isSpecName(name) {
                let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                do {
                    files.append(CDISpecFile(path: path, directoryIndex: index, spec: try CDISpecDecoder.load(path: path, limits: limits)))
                } catch let error as CapstanError {
                    errors.append(CDISpecFileError(path: path, error: error))
                } catch {
                    errors.append(CDISpecFileError(path: path, error: CapstanError(.internal, "\(path): \(error)")))
                }
            }
        }
        return CDIRegistry(directories: directories, specFiles: files, loadErrors: errors)
    }

    /// A registry of specs already decoded (`specFiles` in reading order, as ``load(directories:limits:)`` reads
    /// them), with the load errors seen on the way; device precedence and conflicts are settled here.
    public init(directories: [String], specFiles: [CDISpecFile], loadErrors: [CDISpecFileError] = []) {
        var entries: [CDIDeviceName: Entry] = [:]
        var errors = loadErrors
        var definedIn: [CDIDeviceName: (directory: Int, paths: [String])] = [:]
        for (fileIndex, file) in specFiles.enumerated() {
            for (deviceIndex, device) in file.spec.devices.enumerated() {
                guard let name = try? CDIDeviceName(kind: file.spec.kind, name: device.name) else { continue }
                if let earlier = definedIn[name], earlier.directory == file.directoryIndex {
                    let paths = earlier.paths + [file.path]
                    definedIn[name] = (file.directoryIndex, paths)
                    entries[name] = .conflict(paths: paths)
                    let message = "device \(name) is defined by both \(earlier.paths.last ?? "") and \(file.path) in the same directory; "
                        + "it cannot be used until one of them goes"
                    for path in [earlier.paths.last ?? "", file.path] {
                        errors.append(CDISpecFileError(path: path, error: CapstanError(.conflict, "\(path): \(message)")))
                    }
                } else {
                    definedIn[name] = (file.directoryIndex, [file.path])
                    entries[name] = .device(file: fileIndex, device: deviceIndex)
                }
            }
        }
        self.directories = directories
        self.specFiles = specFiles
        self.errors = errors
        self.entries = entries
    }

    /// Every device name known (conflicting ones included), sorted.
    public var deviceNames: [CDIDeviceName] { entries.keys.sorted() }

    /// Every kind some spec defines, sorted.
    public var kinds: [CDIKind] { Set(entries.keys.map(\.kind)).sorted() }

    /// The spec file and device `name` resolves to, or a `notFound`/`conflict` error naming it and listing the known
    /// devices of its kind.
    public func device(_ name: CDIDeviceName) throws -> (file: CDISpecFile, device: CDIDevice) {
        switch entries[name] {
        case .device(let fileIndex, let deviceIndex):
            let file = specFiles[fileIndex]
            return (file, file.spec.devices[deviceIndex])
        case .conflict(let paths):
            throw CapstanError(
                .conflict, "CDI device \(name) is defined by more than one spec in the same directory (\(paths.joined(separator: ", "))); remove one")
        case nil:
            let sameKind = entries.keys.filter { $0.kind == name.kind }.map(\.name).sorted()
            var message: String
            if sameKind.isEmpty {
                let kinds = kinds.map(\.description)
                message = "unknown CDI device \(name): no spec defines kind \(name.kind)"
                    + (kinds.isEmpty ? "" : "; the known kinds are \(kinds.joined(separator: ", "))")
            } else {
                message = "unknown CDI device \(name); the devices of kind \(name.kind) are \(sameKind.joined(separator: ", "))"
            }
            message += " (specs read from \(directories.joined(separator: ", "))"
            message += errors.isEmpty ? ")" : "; \(errors.count) spec file error(s) at load, the first: \(errors[0].error.message))"
            throw CapstanError(.notFound, message)
        }
    }

    private static func isSpecName(_ name: String) -> Bool {
        name.hasSuffix(".json") || name.hasSuffix(".yaml") || name.hasSuffix(".yml")
    }
}
